"""The loyalty forms in a real Chromium: a refused tier row comes back as typed, two tiers saved,
a birthday rule added through the rule form, all shown back on the page."""

from __future__ import annotations

import pytest

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from tests import factories
from tests.live import log_in

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"


@pytest.fixture
def server(tmp_path, start_server) -> str:
    """A user; the server on a fresh database."""
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    engine.dispose()
    return start_server(url)


def test_tier_row_programme_and_rule_forms(server, page):
    from playwright.sync_api import expect

    log_in(page, f"{server}/loyalty", EMAIL, PASSWORD)
    page.wait_for_selector("[data-testid=programme-name]")
    page.fill("[data-testid=programme-name]", "Patron Club")
    new_row = page.locator("[data-testid=tier-rows] tbody tr").last
    new_row.locator("input[name=tier_name]").fill("Gold")
    new_row.locator("input[name=tier_threshold]").fill("1000")
    new_row.locator("input[name=tier_multiplier]").fill("1.5")
    save = "form[action='/loyalty/programme'] button[type=submit]"
    page.click(save)
    error = page.locator("[data-testid=loyalty-error]")
    expect(error).to_contain_text("tier thresholds must start at 0")
    rows = page.locator("[data-testid=tier-rows] tbody tr")
    expect(rows.first.locator("input[name=tier_name]")).to_have_value("Gold")  # re-filled
    for row, (name, threshold, mult) in enumerate((("Member", "0", "1"), ("Gold", "1000", "1.5"))):
        rows.nth(row).locator("input[name=tier_name]").fill(name)
        rows.nth(row).locator("input[name=tier_threshold]").fill(threshold)
        rows.nth(row).locator("input[name=tier_multiplier]").fill(mult)
    page.click(save)
    expect(error).to_have_count(0)
    expect(page.locator("h1")).to_have_text("Loyalty: Patron Club")
    names = page.locator("[data-testid=tier-rows] input[name=tier_name]")
    expect(names).to_have_count(3)  # the two saved tiers and one blank row for the next
    expect(names.nth(1)).to_have_value("Gold")
    expect(page.locator("[data-testid=tier-distribution]")).to_contain_text("Gold")

    page.fill("[data-testid=rule-name]", "Birthday bonus")
    page.locator("[data-testid=rule-trigger]").select_option("birthday")
    page.fill("form[action='/loyalty/rules'] input[name=points]", "250")
    page.click("form[action='/loyalty/rules'] button[value=save]")
    expect(page.locator("[data-testid=rules]")).to_contain_text("Birthday bonus")
    expect(page.locator("[data-testid=rules]")).to_contain_text("birthday")
