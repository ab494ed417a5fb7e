"""Admin pages of API keys and users: CSRF, scopes, a key shown once, revoking, admins only."""

from __future__ import annotations

import re

from patron.auth import service as auth
from patron.db import transaction
from tests import factories
from tests.admin.conftest import token_of
from tests.dashboard.conftest import login

KEY = re.compile(r"pat_[0-9a-f]{12}_[A-Za-z0-9_-]+")


def _create_key(client, name="shop", scopes=("read",)):
    """Post the create form with a valid token."""
    return client.post(
        "/admin/keys",
        data={"name": name, "scopes": list(scopes), "csrf_token": token_of(client, "/admin/keys")},
    )


def test_admin_pages_need_a_login(client):
    for path in ("/admin", "/admin/keys", "/admin/users", "/admin/import", "/admin/system"):
        answer = client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, f"/login?next={path}")


def test_a_user_who_is_not_an_administrator_is_refused(client, db):
    with transaction(db.sessions) as s:
        auth.create_user(
            session=s,
            email="analyst@example.com",
            password="analyst pass",
            now=factories.T0,
            is_admin=False,
        )
    login(client, "analyst@example.com", "analyst pass")
    answer = client.get("/admin/keys", headers={"accept": "text/html"})
    assert answer.status_code == 403 and "only administrators" in answer.text
    assert client.get("/", follow_redirects=False).status_code == 200


def test_creating_a_key_needs_the_csrf_token(admin):
    answer = admin.post("/admin/keys", data={"name": "shop", "scopes": ["read"]})
    assert answer.status_code == 403
    assert "No API keys yet" in admin.get("/admin/keys").text


def test_a_new_key_is_shown_once_with_its_scopes_and_works_for_them_only(admin):
    page = _create_key(admin, scopes=("read", "track"))
    assert page.status_code == 200
    keys = set(KEY.findall(page.text))
    assert len(keys) == 1
    key = keys.pop()
    assert "shown only this once" in page.text
    listed = admin.get("/admin/keys").text
    assert key not in listed and KEY.search(listed) is None  # never shown again
    assert f"pat_{key.split('_')[1]}_…" in listed and "read, track" in listed
    bearer = {"Authorization": f"Bearer {key}"}
    assert admin.get("/api/keys", headers=bearer).status_code == 403  # lacks admin
    assert admin.get("/api/customers", headers=bearer).status_code == 200  # read


def test_a_key_needs_a_name_and_a_known_scope(admin):
    assert _create_key(admin, name="", scopes=("read",)).status_code == 422
    refused = _create_key(admin, scopes=("root",))
    assert refused.status_code == 422 and "scopes must be some of" in refused.text
    assert _create_key(admin, scopes=()).status_code == 422


def test_revoking_a_key_stops_it_at_once(admin):
    key = KEY.search(_create_key(admin, scopes=("admin",)).text).group(0)
    bearer = {"Authorization": f"Bearer {key}"}
    assert admin.get("/api/keys", headers=bearer).status_code == 200
    key_id = re.search(r"/admin/keys/(\d+)/revoke", admin.get("/admin/keys").text).group(1)
    assert admin.post(f"/admin/keys/{key_id}/revoke", data={}).status_code == 403  # no token
    answer = admin.post(
        f"/admin/keys/{key_id}/revoke", data={"csrf_token": token_of(admin, "/admin/keys")}
    )
    assert answer.status_code == 200 and "revoked" in answer.text
    assert admin.get("/api/keys", headers=bearer).status_code == 401
    assert "/revoke" not in admin.get("/admin/keys").text


def test_revoking_an_unknown_key_says_so(admin):
    answer = admin.post(
        "/admin/keys/999/revoke", data={"csrf_token": token_of(admin, "/admin/keys")}
    )
    assert answer.status_code == 200 and "API key 999 does not exist" in answer.text


def test_an_administrator_creates_a_user_who_can_log_in(admin, client):
    token = token_of(admin, "/admin/users")
    assert (
        admin.post(
            "/admin/users", data={"email": "new@example.com", "password": "long enough"}
        ).status_code
        == 403
    )
    answer = admin.post(
        "/admin/users",
        data={"email": "new@example.com", "password": "long enough", "csrf_token": token},
    )
    assert answer.status_code == 200 and "User new@example.com created" in answer.text
    assert "new@example.com" in admin.get("/admin/users").text
    again = admin.post(
        "/admin/users",
        data={"email": "new@example.com", "password": "long enough", "csrf_token": token},
    )
    assert again.status_code == 409 and "exists already" in again.text
    short = admin.post(
        "/admin/users", data={"email": "b@example.com", "password": "short", "csrf_token": token}
    )
    assert short.status_code == 422 and "at least 8 characters" in short.text
    admin.cookies.clear()
    assert login(client, "new@example.com", "long enough").status_code == 303
    assert client.get("/admin/users").status_code == 403  # not made an administrator
