"""The suppression list: the dashboard page with an explicit, CSRF-checked clear, and the API."""

from __future__ import annotations

from sqlalchemy import select

from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.messages import outbox
from patron.messages.tables import Suppression
from tests.dashboard.conftest import client, csrf_of, login  # noqa: F401 (fixture)
from tests.messages.conftest import NOW


def _addresses(db) -> list[str]:
    with transaction(db.sessions) as s:
        return list(s.scalars(select(Suppression.address).order_by(Suppression.address)))


def test_page_lists_and_clears_only_with_the_csrf_token(db, client):  # noqa: F811
    with transaction(db.sessions) as s:
        outbox.suppress(s, address="a@x.example", reason="hard_bounce", detail="550", now=NOW)
        outbox.suppress(s, address="b@x.example", reason="complaint", detail=None, now=NOW)
    login(client)
    page = client.get("/messages/suppressions")
    assert page.status_code == 200 and "a@x.example" in page.text and "complaint" in page.text
    forged = client.post(
        "/messages/suppressions/clear", data={"address": "a@x.example", "csrf_token": "nope"}
    )
    assert forged.status_code == 403
    assert _addresses(db) == ["a@x.example", "b@x.example"]
    done = client.post(
        "/messages/suppressions/clear",
        data={"address": "A@x.example", "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 200 and "was cleared" in done.text
    assert _addresses(db) == ["b@x.example"]
    assert "a@x.example" not in client.get("/messages/suppressions?q=x.example").text


def test_api_lists_adds_and_clears(db, client):  # noqa: F811
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="read,write", now=utcnow())[1]
    headers = {"Authorization": f"Bearer {key}"}
    for n in range(3):
        made = client.post(
            "/api/suppressions", json={"address": f"M{n}@x.example"}, headers=headers
        )
        assert made.status_code == 201 and made.json()["created"] is True
    again = client.post("/api/suppressions", json={"address": "m0@x.example"}, headers=headers)
    assert again.json()["created"] is False
    bad = client.post("/api/suppressions", json={"address": "nobody"}, headers=headers)
    assert bad.status_code == 422
    first = client.get("/api/suppressions?limit=2", headers=headers).json()
    assert [i["address"] for i in first["items"]] == ["m0@x.example", "m1@x.example"]
    rest = client.get(f"/api/suppressions?after={first['next_after']}", headers=headers).json()
    assert [i["address"] for i in rest["items"]] == ["m2@x.example"] and rest["next_after"] is None
    assert client.delete("/api/suppressions/m1@x.example", headers=headers).status_code == 204
    assert client.delete("/api/suppressions/m1@x.example", headers=headers).status_code == 404
    assert client.delete("/api/suppressions/m2@x.example").status_code == 401
    assert _addresses(db) == ["m0@x.example", "m2@x.example"]
