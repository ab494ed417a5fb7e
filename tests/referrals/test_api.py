"""The referrals API: the shop's code and link, attribution refusing self-referral with 422
and nothing written, the leaderboard and the programme's settings."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.events.tables import LoggedEvent
from patron.referrals.tables import Referral
from tests.coupons.conftest import person


def test_referral_api(sqlite_db, monkeypatch):
    monkeypatch.setenv("PATRON_REFERRAL_SHOP_URL", "https://shop.example/welcome?utm=ref")
    with transaction(sqlite_db.sessions) as s:
        keys = {
            scope: auth_service.create_key(session=s, name=scope, scopes=scope, now=utcnow())[1]
            for scope in ("shop", "read", "admin")
        }
        person(s, "ann", email="ann@example.com")
        person(s, "alt", email="ANN+alt@example.com")
        person(s, "bob")
    h = {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}
    client = TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine))
    mine = client.get("/api/shop/customers/ann/referral", headers=h["shop"])
    assert mine.status_code == 200
    code = mine.json()["code"]
    assert mine.json()["link"] == f"https://shop.example/welcome?utm=ref&ref={code}"
    assert client.get("/api/shop/customers/ann/referral", headers=h["read"]).status_code == 403
    assert client.get("/api/shop/customers/zed/referral", headers=h["shop"]).status_code == 404
    refused = client.post(
        "/api/referrals/attribute", json={"customer": "alt", "code": code}, headers=h["shop"]
    )
    assert refused.status_code == 422
    assert refused.json()["details"] == {"rule": "self_referral_email"}
    with transaction(sqlite_db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(Referral)) == 0
        assert not s.scalar(select(func.count()).where(LoggedEvent.type.like("referral.%")))
    neither = client.post("/api/referrals/attribute", json={"code": code}, headers=h["shop"])
    assert neither.status_code == 422
    ok = client.post(
        "/api/referrals/attribute", json={"customer": "bob", "code": code}, headers=h["shop"]
    )
    assert ok.status_code == 201 and ok.json()["state"] == "pending"
    board = client.get("/api/referrals/leaderboard", headers=h["read"]).json()
    assert board[0]["external_id"] == "ann" and board[0]["pending"] == 1
    bad = client.patch("/api/referrals/programme", json={"reward": "coupon"}, headers=h["admin"])
    assert bad.status_code == 422 and "campaign" in bad.json()["message"]
    good = client.patch("/api/referrals/programme", json={"cap": 4}, headers=h["admin"])
    assert good.json()["cap"] == 4
    assert client.get("/api/referrals/programme", headers=h["read"]).json()["cap"] == 4
