"""REST API of API keys: admin only, key shown once, revocation takes effect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow


def _key(db, scopes: str) -> str:
    """Create an API key with scopes and return it."""
    with transaction(db.sessions) as session:
        return auth_service.create_key(session=session, name="t", scopes=scopes, now=utcnow())[1]


@pytest.fixture
def client(db) -> TestClient:
    """A client of the app (no key set)."""
    return TestClient(create_app(db.settings(), engine=db.engine))


def _auth(key: str) -> dict:
    """Authorization header of a key."""
    return {"Authorization": f"Bearer {key}"}


def test_admin_creates_lists_and_revokes_keys(client, db):
    admin = _auth(_key(db, "admin"))
    created = client.post(
        "/api/keys", json={"name": "shop", "scopes": ["read", "track"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith(f"pat_{body['prefix']}_")
    assert sorted(body["scopes"]) == ["read", "track"]
    new = _auth(body["key"])
    assert client.get("/api/customers", headers=new).status_code == 200
    assert client.post("/api/customers", json={"external_id": "c"}, headers=new).status_code == 403
    listed = client.get("/api/keys", headers=admin).json()
    assert [k["name"] for k in listed] == ["shop", "t"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert client.delete(f"/api/keys/{body['id']}", headers=admin).status_code == 204
    assert client.get("/api/customers", headers=new).status_code == 401
    revoked = next(
        k for k in client.get("/api/keys", headers=admin).json() if k["id"] == body["id"]
    )
    assert revoked["revoked_at"] is not None


def test_key_management_needs_admin(client, db):
    writer = _auth(_key(db, "write"))
    assert client.get("/api/keys", headers=writer).status_code == 403
    assert (
        client.post(
            "/api/keys", json={"name": "x", "scopes": ["admin"]}, headers=writer
        ).status_code
        == 403
    )
    assert client.get("/api/keys").status_code == 401
    with transaction(db.sessions) as session:
        assert len(auth_service.list_keys(session=session)) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["read"]},
        {"name": "x", "scopes": "read"},
    ],
)
def test_bad_key_requests_are_refused(client, db, body):
    admin = _auth(_key(db, "admin"))
    answer = client.post("/api/keys", json=body, headers=admin)
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_input"
    assert len(client.get("/api/keys", headers=admin).json()) == 1


def test_revoking_an_unknown_key_is_not_found(client, db):
    admin = _auth(_key(db, "admin"))
    answer = client.delete("/api/keys/9999", headers=admin)
    assert answer.status_code == 404 and "9999" in answer.json()["message"]
