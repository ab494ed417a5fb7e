"""The journey builder in a real Chromium against a real server: compose a win-back journey,
save it, see it listed, open it and dry-run it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from patron.auth import service as auth_service
from patron.customers import service as customers
from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.journeys.tables import Journey, JourneyVersion
from patron.messages import service as messages
from patron.migrate import upgrade
from patron.segments import service as segments
from tests import factories
from tests.live import log_in

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"
RISKY = {
    "type": "and",
    "children": [{"type": "attribute", "key": "risk", "op": "eq", "value": "high"}],
}


@pytest.fixture
def database(tmp_path) -> str:
    """Six customers, three at risk who entered "Slipping away" 20 days ago; two templates.

    One of the three tracked "Placed Order" 12 days ago (while the journey would wait for it).
    """
    url = f"sqlite:///{tmp_path / 'journeys.db'}"
    engine = make_engine(url)
    upgrade(engine)
    start = utcnow() - timedelta(days=20)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        people = [
            factories.customer(
                s,
                f"c{i}",
                email=f"c{i}@example.com",
                attributes={"risk": "high" if i < 3 else "low"},
            )
            for i in range(6)
        ]
        for name in ("First offer", "Second offer"):
            variant = messages.VariantInput(subject=name, body=f"<p>{name}</p>")
            messages.create_template(
                session=s, data=messages.TemplateInput(name=name, variants=[variant]), now=start
            )
        segments.create_segment(session=s, name="Slipping away", rules_json=RISKY, now=start)
        when = start + timedelta(days=8)
        customers.record_event(
            session=s,
            message_id="bought-1",
            type_="track",
            name="Placed Order",
            customer_id=people[0].id,
            anonymous_id=None,
            properties={},
            context={},
            occurred_at=when,
            received_at=when,
        )
    engine.dispose()
    return url


@pytest.fixture
def server(database, start_server) -> str:
    return start_server(database)


def _add(scope, kind: str) -> None:
    """Add a step of a kind at the end of a flow (the flow's own add row)."""
    row = scope.locator(":scope > .jb-row").last
    row.locator("[data-testid=add-type]").select_option(kind)
    row.locator("[data-testid=add-step]").click()


def test_compose_save_list_and_dry_run_a_win_back(database, server, page):
    from playwright.sync_api import expect

    log_in(page, f"{server}/journeys/new", EMAIL, PASSWORD)
    page.wait_for_selector("[data-testid=steps]")
    page.fill("#journey-name", "Win-back")
    page.locator("[data-testid=trigger-type]").select_option("segment_entered")
    page.locator("[data-testid=trigger-segment]").select_option(label="Slipping away")
    page.locator("[data-testid=goal]").select_option("order")
    root = page.locator("#journey-steps > .jb-flow")
    _add(root, "send")
    page.locator("[data-step-type=send] [data-testid=template]").select_option(label="First offer")
    _add(root, "wait")
    page.locator("[data-step-type=wait] [data-testid=duration]").fill("3")
    page.locator("[data-step-type=wait] [data-testid=duration-unit]").select_option("86400")
    _add(root, "wait_for")
    waiting = page.locator("[data-step-type=wait_for]")
    waiting.locator("[data-testid=wait-event]").fill("Placed Order")
    waiting.locator("[data-testid=timeout-unit]").select_option("86400")
    waiting.locator("[data-testid=timeout]").fill("7")
    happened = waiting.locator("[data-testid=branch][data-branch=happened] > .jb-flow")
    _add(happened, "exit")
    timed_out = waiting.locator("[data-testid=branch][data-branch='timed out'] > .jb-flow")
    _add(timed_out, "send")
    second = timed_out.locator("[data-step-type=send] [data-testid=template]")
    second.select_option(label="Second offer")
    expect(page.locator("[data-testid=step]")).to_have_count(5)
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r".*/journeys/\d+/edit$"))
    expect(page.locator(".flash")).to_contain_text("saved as a draft")

    page.goto(f"{server}/journeys")
    row = page.locator("[data-testid=journey-row]", has_text="Win-back")
    expect(row.locator("[data-testid=journey-state]")).to_have_text("draft")
    row.locator("a", has_text="Win-back").click()
    page.wait_for_url(re.compile(r".*/journeys/\d+/edit$"))
    expect(page.locator("[data-testid=step]")).to_have_count(5)  # the saved flow drawn again
    page.click("[data-testid=dry-run]")
    expect(page.locator("[data-testid=dry-summary]")).to_contain_text("3 would have entered")
    messages_table = page.locator("[data-testid=dry-messages]")
    expect(messages_table.locator("tr", has_text="First offer")).to_contain_text("3")
    expect(messages_table.locator("tr", has_text="Second offer")).to_contain_text("2")
    badge = page.locator("[data-step-type=wait_for] [data-testid=dry-count]").first
    expect(badge).to_contain_text("happened 1, timed_out 2")

    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        journey = s.scalar(select(Journey).where(Journey.name == "Win-back"))
        d = s.get(JourneyVersion, journey.current_version_id).definition
    engine.dispose()
    by_type = {step["type"]: step for step in d["steps"]}
    assert d["trigger"]["type"] == "segment_entered" and d["goal"]["type"] == "order"
    assert by_type["wait"]["seconds"] == 3 * 86400
    assert by_type["wait_for"]["event"]["name"] == "Placed Order"
    assert by_type["wait_for"]["timeout_seconds"] == 7 * 86400
    steps = {step["id"]: step for step in d["steps"]}
    assert steps[by_type["wait_for"]["happened"]]["type"] == "exit"
    assert steps[by_type["wait_for"]["timed_out"]]["type"] == "send"

    # A scheduled trigger and the effect steps are composed with form controls too.
    page.goto(f"{server}/journeys/new")
    page.wait_for_selector("[data-testid=steps]")
    page.fill("#journey-name", "Birthday heads-up")
    page.locator("[data-testid=trigger-type]").select_option("date")
    page.locator("[data-testid=trigger-offset]").fill("-3")
    page.locator("[data-testid=trigger-at]").fill("10:30")
    root = page.locator("#journey-steps > .jb-flow")
    _add(root, "notify")
    page.locator("[data-step-type=notify] [data-testid=notify-line]").fill("Birthday in 3 days")
    page.locator("[data-step-type=notify] [data-testid=notify-email]").check()
    _add(root, "webhook")
    hook = page.locator("[data-step-type=webhook] [data-testid=webhook-url]")
    hook.fill("https://hooks.example.com/birthday")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r".*/journeys/\d+/edit$"))
    expect(page.locator(".flash")).to_contain_text("saved as a draft")
    with transaction(make_sessionmaker(engine)) as s:
        journey = s.scalar(select(Journey).where(Journey.name == "Birthday heads-up"))
        d = s.get(JourneyVersion, journey.current_version_id).definition
    engine.dispose()
    assert {k: d["trigger"].get(k) for k in ("type", "field", "offset_days", "at")} == {
        "type": "date",
        "field": "birthday",
        "offset_days": -3,
        "at": "10:30",
    }
    by_type = {step["type"]: step for step in d["steps"]}
    assert (by_type["notify"]["line"], by_type["notify"]["email"]) == ("Birthday in 3 days", True)
    assert by_type["webhook"]["url"] == "https://hooks.example.com/birthday"
