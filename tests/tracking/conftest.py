"""Fixtures of the tracking tests: an app client and a write key on the `db` database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers.tables import Event
from patron.db import transaction, utcnow


def make_key(db, scopes: str = "track") -> str:
    """Create an API key with scopes and return it."""
    with transaction(db.sessions) as session:
        return auth_service.create_key(session=session, name="t", scopes=scopes, now=utcnow())[1]


@dataclass
class Tracking:
    """A client of the app, a write key, and helpers to read what was stored."""

    db: object
    client: TestClient
    key: str

    def post(self, path: str, body: dict, **kwargs):
        """POST a JSON body to /v1/<path> with the write key as Basic user name."""
        kwargs.setdefault("auth", (self.key, ""))
        return self.client.post(f"/v1/{path}", json=body, **kwargs)

    def events(self, **where) -> list[Event]:
        """Stored events matching column values, oldest first."""
        with transaction(self.db.sessions) as session:
            query = select(Event).filter_by(**where).order_by(Event.id)
            return list(session.scalars(query))

    def count(self, model) -> int:
        """Rows of a table."""
        with transaction(self.db.sessions) as session:
            return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def tracking(db) -> Tracking:
    """The app on the test database and a track-scoped write key."""
    client = TestClient(create_app(db.settings(), engine=db.engine))
    return Tracking(db=db, client=client, key=make_key(db))
