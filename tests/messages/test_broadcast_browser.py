"""The broadcast wizard in a real Chromium against a real server: audience with a live count,
template, schedule, review, then the report page and its buttons."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.messages.tables import Broadcast, OutboxMessage
from patron.migrate import upgrade
from tests.live import log_in
from tests.messages.conftest import NOW, customer, template
from tests.messages.test_broadcasts import segment

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"


@pytest.fixture
def database(tmp_path) -> str:
    """Five customers (c4 without consent) in "Everyone", c0 also in "Staff", a template."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=NOW)
        people = [customer(s, i, consent="granted" if i < 4 else "denied") for i in range(5)]
        segment(s, "Everyone", people)
        segment(s, "Staff", people[:1])
        template(s, name="Spring news")
    engine.dispose()
    return url


def test_wizard_counts_the_audience_reviews_and_sends_once(database, start_server, page):
    from playwright.sync_api import expect

    server = start_server(database)
    log_in(page, f"{server}/broadcasts/new", EMAIL, PASSWORD)
    page.wait_for_selector("#wizard")
    page.fill("input[name=name]", "Spring sale")
    page.locator("[data-step='1'] input[name=segment_ids][data-name='Everyone']").check()
    count = page.locator("[data-testid=audience-count]")
    expect(count).to_contain_text("4 recipients (5 members, 4 with consent")
    page.locator("input[name=exclude_segment_ids][data-name='Staff']").check()
    expect(count).to_contain_text("3 recipients (4 members, 3 with consent")
    page.click("[data-step='1'] [data-next]")
    page.select_option("select[name=template_id]", label="Spring news (marketing)")
    page.click("[data-step='2'] [data-next]")
    page.check("input[name=when][value=now]")
    page.click("[data-step='3'] [data-next]")
    review = page.locator("[data-testid=review]")
    expect(review.locator("[data-field=recipients]")).to_have_text("3")
    expect(review.locator("[data-field=except]")).to_have_text("Staff")
    expect(review.locator("[data-field=when]")).to_have_text("Now")
    page.click("[data-step='4'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/broadcasts/\d+$"))
    expect(page.locator("[data-testid=state]")).to_have_text("sending")
    expect(page.locator("[data-testid=report]")).to_contain_text("Audience")
    page.click("form[action$='/pause'] button")
    expect(page.locator("[data-testid=state]")).to_have_text("paused")
    page.click("form[action$='/cancel'] button")
    expect(page.locator("[data-testid=state]")).to_have_text("cancelled")
    expect(page.locator("body")).to_contain_text("cancelled: 4")
    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        b = s.scalar(select(Broadcast))
        assert (b.name, b.audience_size) == ("Spring sale", 4)
        assert len(s.scalars(select(OutboxMessage.id)).all()) == 4
    engine.dispose()


def test_report_page_shows_clicks_per_link_and_the_svg_chart(tmp_path, start_server, page):
    from playwright.sync_api import expect

    from tests.messages.test_broadcast_report import A, B, seed

    url = f"sqlite:///{tmp_path / 'report.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=NOW)
        seed(s)
    engine.dispose()
    server = start_server(url)
    log_in(page, f"{server}/broadcasts/7", EMAIL, PASSWORD)
    rows = page.locator("[data-testid=links] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td")).to_have_text([A, "2", "3", "1"])
    expect(rows.nth(1).locator("td")).to_have_text([B, "1", "1", "1"])
    expect(page.locator("[data-testid=report]")).to_contain_text("Delivered")
    chart = page.locator("svg[data-testid=chart]")
    expect(chart).to_be_visible()
    expect(chart.locator("title")).to_have_text("Sends, human opens and human clicks per hour")
    assert chart.locator("[data-series=clicks] circle").count() == 4
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 80
    page.click("details summary")
    cells = page.locator("[data-testid=timeline] tbody tr").nth(2).locator("td")
    expect(cells).to_have_text(["0", "0", "2"])
