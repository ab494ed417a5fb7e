"""REST API of segments: CRUD, count, preview, members, export, and 422s with rule paths."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from tests import factories

GOLD = {
    "type": "and",
    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
}


def _key(db, scopes: str) -> str:
    """Create an API key with scopes and return it."""
    with transaction(db.sessions) as session:
        return auth_service.create_key(session=session, name="t", scopes=scopes, now=utcnow())[1]


@pytest.fixture
def api(db) -> TestClient:
    """A client holding a write key, on a database with five customers (three gold)."""
    with transaction(db.sessions) as s:
        for i in range(5):
            factories.customer(
                s,
                f"c{i}",
                email=f"c{i}@example.com",
                attributes={"plan": "gold" if i % 2 == 0 else "free"},
            )
    client = TestClient(create_app(db.settings(), engine=db.engine))
    client.headers["Authorization"] = f"Bearer {_key(db, 'write')}"
    return client


def test_crud_count_members_and_export(api):
    created = api.post("/api/segments", json={"name": "Gold", "description": "d", "rules": GOLD})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["member_count"]) == ("Gold", 3)
    sid = body["id"]
    assert api.post("/api/segments/count", json={"rules": GOLD}).json() == {"count": 3}
    preview = api.post("/api/segments/preview", json={"rules": GOLD, "limit": 2}).json()
    assert preview["count"] == 3 and len(preview["customers"]) == 2
    assert preview["customers"][0]["reasons"] == ["attribute plan is gold"]
    page = api.get(f"/api/segments/{sid}/members", params={"limit": 2}).json()
    assert [m["external_id"] for m in page["items"]] == ["c0", "c2"]
    rest = api.get(
        f"/api/segments/{sid}/members", params={"limit": 2, "cursor": page["next_cursor"]}
    ).json()
    assert [m["external_id"] for m in rest["items"]] == ["c4"] and rest["next_cursor"] is None
    export = api.get(f"/api/segments/{sid}/export", params={"audience": "all"})
    assert export.headers["content-type"].startswith("text/csv")
    assert f'filename="segment-{sid}-email-all.csv"' in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.text)))
    assert [r[1] for r in rows[1:]] == ["c0", "c2", "c4"]
    assert len(list(csv.reader(io.StringIO(api.get(f"/api/segments/{sid}/export").text)))) == 1
    changed = api.patch(
        f"/api/segments/{sid}", json={"rules": {"type": "not", "children": GOLD["children"]}}
    )
    assert changed.json()["member_count"] == 2
    kinds = [c["change"] for c in api.get(f"/api/segments/{sid}/changes").json()["items"]]
    assert kinds.count("entered") == 5 and kinds.count("exited") == 3
    assert api.post(f"/api/segments/{sid}/refresh").json()["members"] == 2
    assert any(s["id"] == sid for s in api.get("/api/segments").json())
    assert api.delete(f"/api/segments/{sid}").status_code == 204
    assert api.get(f"/api/segments/{sid}").status_code == 404
    assert api.get(f"/api/segments/{sid}/export").status_code == 404


def test_bad_trees_answer_422_with_the_rule_path(api):
    bad = {
        "type": "and",
        "children": [
            GOLD["children"][0],
            {"type": "purchase", "field": "order_count", "op": "gte", "value": 10**12},
        ],
    }
    answer = api.post("/api/segments", json={"name": "x", "rules": bad})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_input"
    assert body["details"][0]["path"] == "rules.children[1].value"
    empty = api.post("/api/segments/count", json={"rules": {"type": "or", "children": []}})
    assert empty.status_code == 422
    assert empty.json()["details"][0]["path"] == "rules.children"
    unknown = api.post(
        "/api/segments/count",
        json={"rules": {"type": "profile", "field": "password_hash", "op": "eq", "value": "x"}},
    )
    assert unknown.json()["details"][0]["path"] == "rules.field"
    assert api.get("/api/segments").json() == []


def test_cycles_answer_422_naming_the_cycle(api):
    a = api.post("/api/segments", json={"name": "A", "rules": GOLD}).json()["id"]
    b = api.post(
        "/api/segments",
        json={
            "name": "B",
            "rules": {"type": "and", "children": [{"type": "segment", "segment_id": a}]},
        },
    ).json()["id"]
    answer = api.patch(
        f"/api/segments/{a}",
        json={
            "rules": {
                "type": "or",
                "children": [GOLD["children"][0], {"type": "segment", "segment_id": b}],
            }
        },
    )
    assert answer.status_code == 422
    assert answer.json()["details"] == [
        {
            "path": "rules.children[1].segment_id",
            "message": "segment references form a cycle: A → B → A",
        }
    ]
    assert api.delete(f"/api/segments/{a}").status_code == 409
    assert api.get(f"/api/segments/{b}").json()["member_count"] == 3


def test_scopes_and_catalogue(api, db):
    reader = TestClient(api.app)
    reader.headers["Authorization"] = f"Bearer {_key(db, 'read')}"
    assert reader.post("/api/segments", json={"name": "x", "rules": GOLD}).status_code == 403
    assert reader.post("/api/segments/count", json={"rules": GOLD}).json()["count"] == 3
    assert TestClient(api.app).get("/api/segments").status_code == 401
    catalogue = reader.get("/api/segments/catalogue").json()
    keys = {c["key"] for c in catalogue["conditions"]}
    assert {"purchase.order_count", "event", "bought", "consent", "segment"} <= keys


def test_builtins_are_created_at_startup(db):
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        client.headers["Authorization"] = f"Bearer {_key(db, 'read')}"
        names = {s["name"] for s in client.get("/api/segments").json()}
    assert {"New customers", "High-value customers", "Birthdays this month"} <= names
