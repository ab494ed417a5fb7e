"""The app kernel: a request's transaction commits before its answer is sent."""

from __future__ import annotations

from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patron.app import create_app
from patron.auth.tables import ApiKey
from patron.db import transaction, utcnow
from patron.deps import get_session


def _key(prefix: str) -> ApiKey:
    return ApiKey(name="k", prefix=prefix, key_hash="h", scopes="read", created_at=utcnow())


def test_a_failed_commit_is_answered_as_an_error_not_a_lost_success(db):
    with transaction(db.sessions) as session:
        session.add(_key("dupprefix000"))
    app = create_app(db.settings(), engine=db.engine)

    @app.post("/_test/duplicate")
    def duplicate(session=Depends(get_session, scope="function")):
        session.add(_key("dupprefix000"))  # flushed only at commit, after the handler returns
        return {"saved": True}

    response = TestClient(app, raise_server_exceptions=False).post("/_test/duplicate")
    assert response.status_code == 409
    assert "nothing was saved" in response.json()["message"]
    with transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
