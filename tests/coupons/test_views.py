"""Dashboard pages: a campaign made through the form, a batch, its CSV; an offer; the
referrals page with its leaderboard, rejections, alerts and settings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction
from patron.referrals import service as referrals
from tests.coupons.conftest import T0, at, person
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login


def test_coupon_and_referral_pages(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=T0)
        ann = person(s, "ann")
        referrals.save_programme(session=s, values={"velocity_count": 1}, now=T0)
        code = referrals.code_for(session=s, customer_id=ann, now=T0)
        referrals.attribute(
            session=s,
            referee_customer_id=person(s, "bob"),
            code=code,
            source="api",
            now=at(minutes=1),
        )
        referrals._rejected(s, ann, person(s, "eve"), code, "tracking", "self_referral_device", T0)
    with TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine)) as page:
        assert login(page).status_code == 303
        listing = page.get("/coupons")
        assert listing.status_code == 200 and "No campaigns yet" in listing.text
        token = csrf_of(listing.text)
        form = {
            "csrf_token": token,
            "name": "VIP",
            "kind": "unique",
            "discount_type": "percent",
            "percent": "15",
            "ends_at": "2027-01-01",
        }
        assert page.post("/coupons", data=form, follow_redirects=False).status_code == 303
        bad = page.post(
            "/coupons", data={**form, "name": "Bad", "percent": "0"}, follow_redirects=True
        )
        assert "percent: a percent coupon takes 1 to 100" in bad.text
        assert page.post(
            "/coupons", data={**form, "csrf_token": "x"}, follow_redirects=False
        ).status_code in (400, 403)
        listing = page.get("/coupons")
        assert 'href="/coupons/1"' in listing.text and "Bad" not in listing.text
        page.post("/coupons/1/batches", data={"csrf_token": token, "count": "120", "prefix": "v"})
        shown = page.get("/coupons/1")
        assert 'data-testid="code-count">120<' in shown.text
        exported = page.get("/coupons/1/codes.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        assert len(exported.text.strip().splitlines()) == 121 and "\nV" in exported.text
        offer = {
            "csrf_token": token,
            "name": "Preview sale",
            "kind": "early_access",
            "tier": "gold",
            "starts_at": "2026-12-01",
            "ends_at": "2026-12-05",
        }
        assert page.post("/coupons/offers", data=offer, follow_redirects=False).status_code == 303
        assert "Preview sale" in page.get("/coupons").text
        board = page.get("/referrals")
        assert board.status_code == 200 and "ann@example.com" in board.text
        assert "self_referral_device" in board.text and 'data-testid="alerts"' in board.text
        saved = page.post(
            "/referrals/programme",
            data={"csrf_token": token, "reward": "points", "cap": "7"},
            follow_redirects=True,
        )
        customer = page.get(f"/customers/{ann}")
        assert 'data-testid="referrals-panel"' in customer.text and code in customer.text
        assert "1 pending" in customer.text and 'data-testid="coupons-panel"' not in customer.text
        assert (
            "Programme saved." in saved.text
            and 'name="cap" type="number" min="0" value="7"' in saved.text
        )
