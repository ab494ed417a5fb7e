"""The builder page in a real Chromium against a real server: compose, see the count, save."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from patron.segments.tables import Segment, SegmentMembership
from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"


@pytest.fixture
def database(tmp_path) -> str:
    """A migrated SQLite file with a user and customers: c0..c5, c2..c5 with two orders."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for i in range(6):
            factories.customer(s, f"c{i}", email=f"c{i}@example.com")
            for n in range(2 if i >= 2 else i):
                factories.order(s, f"o{i}-{n}", f"c{i}", days=-n)
    engine.dispose()
    return url


@pytest.fixture
def server(database, start_server) -> str:
    """`uvicorn patron.asgi:app` on a free loopback port; stopped by the fixture afterwards."""
    return start_server(database)


def test_compose_a_rule_see_the_count_and_save(database, server, page):
    from playwright.sync_api import expect

    page.goto(f"{server}/segments/new")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("[data-testid=builder]")
    page.click("[data-testid=add-condition]")
    condition = page.locator("[data-testid=condition]").first
    condition.locator("[data-testid=field]").select_option("purchase.order_count")
    condition.locator("[data-param=op]").select_option("gte")
    condition.locator("[data-param=value]").fill("2")
    expect(page.locator("[data-testid=count]")).to_have_text("4")
    expect(page.locator("[data-testid=preview] tbody tr")).to_have_count(4)
    expect(page.locator("[data-testid=preview]")).to_contain_text("Orders ≥ 2")
    condition.locator("[data-param=value]").fill("1")
    expect(page.locator("[data-testid=count]")).to_have_text("5")
    page.fill("#segment-name", "Repeat buyers")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r".*/segments/\d+$"))
    expect(page.locator(".flash")).to_contain_text("5 members")
    expect(page.locator("[data-param=value]")).to_have_value("1")
    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        segment = s.scalar(select(Segment).where(Segment.name == "Repeat buyers"))
        assert segment.rules["children"][0] == {
            "type": "purchase",
            "field": "order_count",
            "op": "gte",
            "value": 1,
        }
        members = s.scalars(
            select(SegmentMembership.customer_id).where(SegmentMembership.segment_id == segment.id)
        ).all()
        assert len(members) == 5
    engine.dispose()


SCORES = {
    "c2": (0.9, "former"),
    "c3": (0.9, "loyal"),
    "c4": (0.2, "former"),
    "c5": (0.95, "former"),
}


@pytest.fixture
def scored(database) -> str:
    """The browser database with scores: churn risk and lifecycle stage of c2..c5."""
    from sqlalchemy import insert

    from patron.analytics.tables import CustomerScore
    from patron.customers.read import Customer

    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        ids = dict(s.execute(select(Customer.external_id, Customer.id)).all())
        s.execute(
            insert(CustomerScore),
            [
                {
                    "customer_id": ids[ext],
                    "computed_at": factories.T0,
                    "churn_risk": churn,
                    "p_alive": 1 - churn,
                    "lifecycle_stage": stage,
                }
                for ext, (churn, stage) in SCORES.items()
            ],
        )
    engine.dispose()
    return database


def _login(page, server: str) -> None:
    """Open the builder through the login form."""
    page.goto(f"{server}/segments/new")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("[data-testid=builder]")


def test_money_percent_and_pick_list_make_the_stored_rule(scored, start_server, page, monkeypatch):
    from playwright.sync_api import expect

    # No in-process worker: its refresh would replace the scores set above (`patron demo`,
    # run in-process by other tests, leaves PATRON_INPROCESS_WORKER=true in os.environ).
    monkeypatch.setenv("PATRON_INPROCESS_WORKER", "false")
    server = start_server(scored)
    _login(page, server)
    page.wait_for_timeout(600)  # past the preview's debounce: a fresh page shows no error
    expect(page.locator("#segment-errors li")).to_have_count(0)
    expect(page.locator("[data-testid=count]")).to_have_text("–")
    for _ in range(3):
        page.click("[data-testid=add-condition]")
    money, percent, stage = page.locator("[data-testid=condition]").all()
    money.locator("[data-testid=field]").select_option("purchase.total_spent_cents")
    money.locator("[data-param=op]").select_option("gte")
    money.locator("[data-param=value]").fill("15")
    expect(money).to_contain_text("in currency")
    percent.locator("[data-testid=field]").select_option("score.churn_risk")
    percent.locator("[data-param=op]").select_option("gte")
    percent.locator("[data-param=value]").fill("80")
    expect(percent).to_contain_text("%")
    stage.locator("[data-testid=field]").select_option("score.lifecycle_stage")
    stage.locator("[data-param=op]").select_option("eq")
    value = stage.locator("[data-param=value]")
    assert value.evaluate("node => node.tagName") == "SELECT"
    value.select_option("former")
    expect(page.locator("[data-testid=count]")).to_have_text("2")
    preview = page.locator("[data-testid=preview]")
    expect(preview).to_contain_text("Total spent ≥ 15.00 (theirs: 20.00)")
    expect(preview).to_contain_text("Churn risk ≥ 80% (theirs: 95%)")
    stage.locator("[data-param=op]").select_option("in")
    stage.locator("[data-param=value]").select_option(["former", "loyal"])
    expect(page.locator("[data-testid=count]")).to_have_text("3")
    page.fill("#segment-name", "Lost big spenders")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r".*/segments/\d+$"))
    expect(page.locator(".flash")).to_contain_text("3 members")
    expect(page.locator("[data-param=value]").nth(0)).to_have_value("15")
    expect(page.locator("[data-param=value]").nth(1)).to_have_value("80")
    engine = make_engine(scored)
    with transaction(make_sessionmaker(engine)) as s:
        segment = s.scalar(select(Segment).where(Segment.name == "Lost big spenders"))
        values = [c["value"] for c in segment.rules["children"]]
    engine.dispose()
    assert values == [1500, 0.8, ["loyal", "former"]]  # in the pick list's order
