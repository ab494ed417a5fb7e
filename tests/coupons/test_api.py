"""The coupons API: the shop's validate and redeem under the shop scope, 4xx naming the rule
with nothing written, campaigns, batches and the CSV export."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.coupons.tables import CouponRedemption
from patron.db import transaction, utcnow
from patron.events.tables import LoggedEvent
from tests.coupons.conftest import T0, person


@pytest.fixture
def api(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        keys = {
            scope: auth_service.create_key(session=s, name=scope, scopes=scope, now=utcnow())[1]
            for scope in ("shop", "write", "read")
        }
        person(s, "ann")
        person(s, "bob")
    client = TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine))
    return client, {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}


def _written(db) -> tuple[int, int]:
    with transaction(db.sessions) as s:
        redemptions = s.scalar(select(func.count()).select_from(CouponRedemption))
        logged = s.scalar(select(func.count()).where(LoggedEvent.type == "coupon.redeemed"))
    return redemptions, logged


def test_shop_validates_and_redeems_and_refusals_write_nothing(sqlite_db, api):
    client, h = api
    body = {
        "name": "Spring",
        "kind": "shared",
        "code": "SPRING",
        "discount_type": "fixed",
        "amount_cents": 700,
        "min_order_cents": 2000,
        "per_customer_limit": 1,
    }
    assert client.post("/api/coupons/campaigns", json=body, headers=h["shop"]).status_code == 403
    assert client.post("/api/coupons/campaigns", json=body, headers=h["write"]).status_code == 201
    old = {**body, "name": "Old", "code": "OLD", "ends_at": "2026-01-01T00:00:00Z"}
    assert client.post("/api/coupons/campaigns", json=old, headers=h["write"]).status_code == 201
    cart = {"lines": [{"sku": "a", "unit_price_cents": 2500}]}
    ok = client.post(
        "/api/coupons/validate",
        json={"code": "spring", "customer": "ann", "cart": cart},
        headers=h["shop"],
    )
    assert ok.json() == {"valid": True, "discount_cents": 700, "rule": None, "reason": "ok"}
    small = client.post(
        "/api/coupons/validate", json={"code": "SPRING", "customer": "ann"}, headers=h["shop"]
    )
    assert small.json()["rule"] == "minimum_order" and small.json()["valid"] is False
    assert (
        client.post(
            "/api/coupons/validate", json={"code": "SPRING", "customer": "ann"}, headers=h["read"]
        ).status_code
        == 403
    )
    redeem = {"code": "SPRING", "customer": "ann", "cart": cart, "order_ref": "o-1"}
    first = client.post("/api/coupons/redeem", json=redeem, headers=h["shop"])
    again = client.post("/api/coupons/redeem", json=redeem, headers=h["shop"])
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and _written(sqlite_db) == (1, 1)
    refusals = {
        "per_customer_limit": {**redeem, "order_ref": "o-2"},
        "expired": {**redeem, "code": "OLD", "order_ref": "o-3"},
        "unknown_code": {**redeem, "code": "NOPE", "order_ref": "o-4"},
    }
    for rule, payload in refusals.items():
        refused = client.post("/api/coupons/redeem", json=payload, headers=h["shop"])
        assert refused.status_code == 422, refused.text
        assert refused.json()["details"] == {"rule": rule} and rule in refused.json()["message"]
    assert _written(sqlite_db) == (1, 1)
    missing = client.post(
        "/api/coupons/redeem", json={**redeem, "customer": "zed"}, headers=h["shop"]
    )
    assert missing.status_code == 404


def test_foreign_personal_code_batches_and_csv(sqlite_db, api):
    client, h = api
    body = {"name": "VIP", "kind": "unique", "discount_type": "percent", "percent": 20}
    cid = client.post("/api/coupons/campaigns", json=body, headers=h["write"]).json()["id"]
    batch = client.post(
        f"/api/coupons/campaigns/{cid}/batches", json={"count": 250}, headers=h["write"]
    )
    assert batch.json()["created"] == 250
    too_many = client.post(
        f"/api/coupons/campaigns/{cid}/batches", json={"count": 10**7}, headers=h["write"]
    )
    assert too_many.status_code == 422
    issued = client.post(
        "/api/coupons/issue",
        json={"customer": "ann", "campaign_id": cid, "key": "x"},
        headers=h["write"],
    )
    code = issued.json()["code"]
    cart = {"subtotal_cents": 1000}
    foreign = client.post(
        "/api/coupons/redeem",
        json={"code": code, "customer": "bob", "cart": cart, "order_ref": "b1"},
        headers=h["shop"],
    )
    assert foreign.status_code == 422 and foreign.json()["details"]["rule"] == "foreign_code"
    assert _written(sqlite_db) == (0, 0)
    csv_text = client.get(f"/api/coupons/campaigns/{cid}/codes.csv", headers=h["read"]).text
    lines = csv_text.strip().splitlines()
    assert lines[0] == "code,customer_id,redeemed_count" and len(lines) == 252 and code in csv_text
    naive = {**body, "name": "N", "starts_at": "2026-01-01T00:00:00"}
    assert client.post("/api/coupons/campaigns", json=naive, headers=h["write"]).status_code == 422
    assert T0.tzinfo is not None
