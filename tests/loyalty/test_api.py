"""HTTP: the shop's member API under its own `shop` scope, refusals naming the rule, admin API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.loyalty import service
from tests.loyalty import helpers as h


def _key(db, scopes: str) -> dict:
    with transaction(db.sessions) as session:
        key = auth_service.create_key(session=session, name="t", scopes=scopes, now=utcnow())[1]
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(sqlite_db):
    client = TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine))
    return client, _key(sqlite_db, "shop"), _key(sqlite_db, "admin"), _key(sqlite_db, "read")


def test_shop_summary_redeem_once_per_key_and_refusal_names_rule(api, sqlite_db):
    client, shop, admin, read = api
    put = client.put(
        "/api/loyalty/programme", headers=admin, json={**h.PROGRAMME, "return_window_days": 0}
    )
    assert put.status_code == 200, put.text
    cid = h.customer(sqlite_db, "c1")
    with transaction(sqlite_db.sessions) as s:
        service.award(session=s, customer_id=cid, points=150, reason="gift", key="g", now=utcnow())
    reward = client.post(
        "/api/loyalty/rewards",
        headers=admin,
        json={
            "name": "Tote",
            "kind": "free_product",
            "cost_points": 100,
            "config": {"sku": "TOTE"},
        },
    )
    assert reward.status_code == 201, reward.text
    rid = reward.json()["id"]
    summary = client.get("/api/shop/loyalty/members/c1", headers=shop).json()
    assert summary["balance"] == 150 and summary["tier"] == "Member"
    assert summary["next_tier"] == "Gold" and summary["to_next_tier"] == 350
    assert [r["id"] for r in summary["affordable_rewards"]] == [rid]
    redeem = {"reward_id": rid}
    first = client.post(
        "/api/shop/loyalty/members/c1/redeem",
        json=redeem,
        headers={**shop, "Idempotency-Key": "abc"},
    )
    again = client.post(
        "/api/shop/loyalty/members/c1/redeem",
        json=redeem,
        headers={**shop, "Idempotency-Key": "abc"},
    )
    assert first.status_code == again.status_code == 200, first.text
    assert first.json() == again.json() and first.json()["balance"] == 50
    refused = client.post(
        "/api/shop/loyalty/members/c1/redeem",
        json=redeem,
        headers={**shop, "Idempotency-Key": "other"},
    )
    assert refused.status_code == 409
    assert refused.json()["details"] == {"rule": "balance"}
    assert "refused by rule 'balance'" in refused.json()["message"]
    assert h.state(sqlite_db, cid)["balance"] == 50
    # The shop key reaches nothing else; other keys do not reach the shop API.
    assert client.get("/api/loyalty/liability", headers=shop).status_code == 403
    assert client.get("/api/shop/loyalty/members/c1", headers=read).status_code == 403
    assert client.get("/api/shop/loyalty/members/nobody", headers=shop).status_code == 404
    no_key = client.post("/api/shop/loyalty/members/c1/redeem", json=redeem, headers=shop)
    assert no_key.status_code == 422


def test_admin_api_refuses_bad_programme_and_rules_and_simulates(api, sqlite_db):
    client, _, admin, read = api
    bad = client.put(
        "/api/loyalty/programme", headers=admin, json={"tiers": [{"name": "A", "threshold": 5}]}
    )
    assert bad.status_code == 422 and "thresholds" in bad.json()["message"]
    bad_rule = client.post(
        "/api/loyalty/rules", headers=admin, json={"name": "x", "trigger": "event", "points": 5}
    )
    assert bad_rule.status_code == 422 and "event_name" in bad_rule.json()["message"]
    h.customer(sqlite_db, "c1")
    h.order(sqlite_db, "o1", "c1", 5000, days=0)
    simulated = client.post(
        "/api/loyalty/simulate",
        headers=read,
        json={"rule": {"name": "x2", "trigger": "multiplier", "multiplier": 2}, "days": 3650},
    )
    assert simulated.status_code == 200, simulated.text
    assert simulated.json() == {"events": 1, "awards": 1, "points": 50, "members": 1}
    liability = client.get("/api/loyalty/liability", headers=read).json()
    assert liability["outstanding"] == 0
