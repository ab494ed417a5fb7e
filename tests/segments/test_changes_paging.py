"""Segment changes are paged by change id: changes sharing one time are all reached once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers.read import Customer
from patron.db import transaction, utcnow
from patron.segments import service

CUSTOMERS = 5_000
PAGE = 2_000
GOLD = {"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}


def _client(db) -> TestClient:
    """An API client holding a read key."""
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="read", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def _gold_segment(db) -> int:
    """5,000 gold customers and a segment of them: one refresh, one time for every change."""
    now = utcnow()
    rows = [
        {
            "id": i,
            "external_id": f"c{i}",
            "attributes": {"plan": "gold"},
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, CUSTOMERS + 1)
    ]
    with transaction(db.sessions) as s:
        s.execute(insert(Customer), rows)
        return service.create_segment(session=s, name="Gold", rules_json=GOLD, now=now).id


def test_following_cursors_reaches_every_change_once(db):
    sid = _gold_segment(db)
    api = _client(db)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
        answer = api.get(f"/api/segments/{sid}/changes", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len({c["changed_at"] for c in seen}) == 1
    ids = [c["id"] for c in seen]
    assert ids == sorted(set(ids)) and len(ids) == CUSTOMERS
    assert sorted(c["customer_id"] for c in seen) == list(range(1, CUSTOMERS + 1))


def test_a_small_last_page_and_a_forged_cursor(db):
    sid = _gold_segment(db)
    api = _client(db)
    first = api.get(f"/api/segments/{sid}/changes", params={"limit": CUSTOMERS - 1}).json()
    assert len(first["items"]) == CUSTOMERS - 1 and first["next_cursor"]
    exact = api.get(f"/api/segments/{sid}/changes", params={"limit": PAGE, "cursor": "NDAwMQ"})
    assert [c["id"] for c in exact.json()["items"]] == list(range(4002, 5001))
    assert exact.json()["next_cursor"] is None
    bad = api.get(f"/api/segments/{sid}/changes", params={"cursor": "not-a-cursor!"})
    assert bad.status_code == 422 and "cursor is not valid" in bad.json()["message"]


def test_set_based_refreshes_record_what_they_moved(db):
    sid = _gold_segment(db)
    later = utcnow()
    with transaction(db.sessions) as s:
        s.execute(update(Customer).where(Customer.id % 2 == 0).values(attributes={"plan": "free"}))
        # More customers than apply_few takes: the restricted set-based path.
        some = service.refresh_segment(
            session=s, segment_id=sid, now=later, customer_ids=range(1, 1501)
        )
        assert (some["entered"], some["exited"], some["members"]) == (0, 750, CUSTOMERS - 750)
        rest = service.refresh_segment(session=s, segment_id=sid, now=later)
        assert (rest["entered"], rest["exited"], rest["members"]) == (
            0,
            CUSTOMERS // 2 - 750,
            CUSTOMERS // 2,
        )
        again = service.refresh_segment(session=s, segment_id=sid, now=later)
        assert (again["entered"], again["exited"]) == (0, 0)
        moved = service.changes(session=s, segment_id=sid, after_id=CUSTOMERS, limit=10_000)
        moved += service.changes(session=s, segment_id=sid, after_id=moved[-1]["id"], limit=10_000)
        assert {c["change"] for c in moved} == {"exited"}
        assert sorted(c["customer_id"] for c in moved) == list(range(2, CUSTOMERS + 1, 2))
