"""Browser checks of the admin pages and of the top bar at phone width (Chromium)."""

from __future__ import annotations

import pytest

from patron.auth import service as auth
from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.migrate import upgrade
from tests import factories
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e
EMAIL, PASSWORD = "owner@example.com", "correct horse battery"
MAIN_PAGES = (
    "/",
    "/customers",
    "/analytics",
    "/analytics/cohorts?months=24",
    "/analytics/rfm",
    "/segments",
    "/webhooks",
    "/admin",
    "/admin/keys",
    "/admin/import",
    "/admin/system",
)


def _shop(tmp_path) -> str:
    """A migrated SQLite shop with one administrator and a few orders."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth.create_user(session=s, email=EMAIL, password=PASSWORD, now=utcnow())
        for n in range(6):
            factories.order(s, f"o{n}", f"c{n % 3}", days=n * 20, total=1000 + n)
    engine.dispose()
    return url


def test_top_bar_at_phone_width_has_no_overflow_and_every_nav_link_is_reachable(
    tmp_path, start_server, browser
):
    base = start_server(_shop(tmp_path))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, base, EMAIL, PASSWORD)
        for path in MAIN_PAGES:
            page.goto(base + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide at a 390px viewport"
        links = page.locator("header .nav a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert "/admin" in hrefs and len(hrefs) >= 6
        for href in hrefs:
            link = page.locator(f"header .nav a[href='{href}']")
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, href
            link.click()
            page.wait_for_url(f"{base}{href}*")
    finally:
        context.close()


def test_create_an_api_key_in_the_browser_and_see_it_listed_then_refresh_now(
    tmp_path, start_server, page, monkeypatch
):
    monkeypatch.setenv("PATRON_INPROCESS_WORKER", "true")  # as the demo runs
    base = start_server(_shop(tmp_path))
    log_in(page, base, EMAIL, PASSWORD)
    page.click("header .nav a[href='/admin']")
    page.click("a.chip:has-text('API keys')")
    page.fill("input[name=name]", "shop tracking")
    page.check("input[name=scopes][value=track]")
    page.uncheck("input[name=scopes][value=read]")
    page.click("form[action='/admin/keys'] button[type=submit]")
    key = page.inner_text("[data-testid=key-value]").strip()
    assert key.startswith("pat_")
    row = page.locator("table[data-testid=keys] tbody tr", has_text="shop tracking")
    assert row.count() == 1 and "track" in row.inner_text()
    page.goto(f"{base}/admin/keys")
    assert key not in page.content() and page.locator("[data-testid=key-value]").count() == 0

    page.goto(f"{base}/admin")
    page.click("[data-testid=refresh-now]")
    page.wait_for_selector("[data-testid=refresh-state]:text('done')", timeout=60_000)
    page.goto(f"{base}/customers")
    page.click("table[data-testid=customers] tbody tr a")
    assert page.locator("[data-testid=no-scores]").count() == 0
    assert page.locator("[data-testid=insights]").count() == 1
