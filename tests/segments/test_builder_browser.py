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
