"""The new-experiment form in a real Chromium: two arms (one added by the page's script),
create, start, and see the experiment testing."""

from __future__ import annotations

import re

import pytest

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.messages import service as messages
from patron.migrate import upgrade
from patron.segments import service as segments
from tests import factories
from tests.live import log_in

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"
EVERYONE = {
    "type": "and",
    "children": [{"type": "attribute", "key": "vip", "op": "eq", "value": "y"}],
}


@pytest.fixture
def server(tmp_path, start_server) -> str:
    """A user, a segment and two templates; the server on them."""
    url = f"sqlite:///{tmp_path / 'experiments.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for name in ("Subject A", "Subject B"):
            variant = messages.VariantInput(subject=name, body=f"<p>{name}</p>")
            data = messages.TemplateInput(name=name, variants=[variant])
            messages.create_template(session=s, data=data, now=utcnow())
        segments.create_segment(session=s, name="VIPs", rules_json=EVERYONE, now=utcnow())
    engine.dispose()
    return start_server(url)


def test_create_two_arms_and_start(server, page):
    from playwright.sync_api import expect

    log_in(page, f"{server}/experiments/new", EMAIL, PASSWORD)
    page.wait_for_selector("[data-testid=experiment-form]")
    page.fill("#experiment-name", "Subject line test")
    page.locator("[data-testid=segments]").select_option(label="VIPs")
    rows = page.locator("[data-testid=arm-row]")
    rows.nth(1).locator("[data-remove-arm]").click()
    expect(rows).to_have_count(1)
    page.click("[data-testid=add-arm]")  # the script adds a row in place
    expect(rows).to_have_count(2)
    for i, (key, template) in enumerate((("A", "Subject A"), ("B", "Subject B"))):
        rows.nth(i).locator("input[name=arm_key]").fill(key)
        rows.nth(i).locator("input[name=arm_percent]").fill("50")
        rows.nth(i).locator("select[name=arm_template_id]").select_option(label=template)
    page.click("[data-testid=create]")
    page.wait_for_url(re.compile(r".*/experiments/\d+$"))
    expect(page.locator("[data-testid=state]")).to_have_text("draft")
    page.click("[data-testid=start]")
    expect(page.locator("[data-testid=state]")).to_have_text("testing")
    expect(page.locator(".flash")).to_contain_text("Experiment started.")
    expect(page.locator("[data-testid=start]")).to_have_count(0)
