"""Dashboard: the loyalty page's forms (programme, rule simulate and add, reward) and the
member statement on the customer page."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.loyalty import service
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login
from tests.loyalty import helpers as h


@pytest.fixture
def page(sqlite_db) -> TestClient:
    with transaction(sqlite_db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine)) as client:
        assert login(client).status_code == 303
        yield client


def test_loyalty_page_forms_and_member_statement(page, sqlite_db):
    listing = page.get("/loyalty")
    assert listing.status_code == 200 and "No earn rules yet" in listing.text
    token = csrf_of(listing.text)
    bad = page.post("/loyalty/programme", data={"csrf_token": token, "config": "{nope"})
    assert bad.status_code == 422 and "not valid JSON" in bad.text and "{nope" in bad.text
    saved = page.post(
        "/loyalty/programme",
        data={"csrf_token": token, "config": json.dumps(h.PROGRAMME)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    rule = json.dumps({"name": "Double", "trigger": "multiplier", "multiplier": 2})
    simulated = page.post(
        "/loyalty/rules", data={"csrf_token": token, "config": rule, "action": "simulate"}
    )
    assert simulated.status_code == 200 and 'data-testid="simulation"' in simulated.text
    assert (
        page.post(
            "/loyalty/rules", data={"csrf_token": token, "config": rule}, follow_redirects=False
        ).status_code
        == 303
    )
    made = page.post(
        "/loyalty/rewards",
        data={"csrf_token": token, "name": "Mug", "kind": "custom", "cost_points": "90"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    cid = h.customer(sqlite_db, "c1")
    with transaction(sqlite_db.sessions) as s:
        service.award(
            session=s, customer_id=cid, points=1234, reason="welcome gift", key="w", now=utcnow()
        )
    shown = page.get("/loyalty").text
    assert "Double" in shown and "Mug" in shown and "1,234" in shown
    assert 'data-testid="tier-distribution"' in shown and "Gold" in shown
    customer = page.get(f"/customers/{cid}").text
    assert 'data-testid="loyalty-panel"' in customer and "welcome gift" in customer
    assert ">1,234<" in customer and "Gold" in customer


def test_programme_and_rule_forms(page, sqlite_db):
    token = csrf_of(page.get("/loyalty").text)
    form = {
        "csrf_token": token,
        "name": "Club",
        "enabled": "on",
        "points_per_unit": "2",
        "rounding": "nearest",
        "return_window_days": "10",
        "expiry": "fixed",
        "expiry_months": "12",
        "tier_basis": "spend",
        "tier_grace_days": "5",
        "tier_name": ["Member", "Silver", ""],
        "tier_threshold": ["0", "5000", ""],
        "tier_multiplier": ["1", "1.5", ""],
    }
    assert page.post("/loyalty/programme", data=form, follow_redirects=False).status_code == 303
    with transaction(sqlite_db.sessions) as s:
        saved = service.get_programme(session=s)
    assert (saved.name, saved.points_per_unit, saved.expiry, saved.tier_basis) == (
        "Club",
        2,
        "fixed",
        "spend",
    )
    assert [(t.name, t.threshold, t.multiplier) for t in saved.tiers] == [
        ("Member", 0, 1.0),
        ("Silver", 5000, 1.5),
    ]
    bad = page.post(
        "/loyalty/programme", data={**form, "name": "Typed", "tier_threshold": ["0", "x", ""]}
    )
    assert (
        bad.status_code in (400, 422)
        and "enter a number" in bad.text
        and 'value="Typed"' in bad.text
    )
    no_csrf = page.post("/loyalty/programme", data={**form, "csrf_token": ""})
    assert no_csrf.status_code in (400, 403)
    rule = {
        "csrf_token": token,
        "name": "Bday",
        "trigger": "birthday",
        "points": "50",
        "multiplier": "9",
        "starts_at": "2026-12-01T00:00",
        "limit_period_days": "30",
    }
    assert page.post("/loyalty/rules", data=rule, follow_redirects=False).status_code == 303
    [made] = [r for r in page.get("/loyalty").text.splitlines() if "Bday" in r]
    assert "birthday" in page.get("/loyalty").text and made
    wrong = page.post("/loyalty/rules", data={**rule, "points": "0"})
    assert wrong.status_code in (400, 422) and "needs points above 0" in wrong.text
