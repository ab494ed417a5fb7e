"""The recommendation pages in a real Chromium against a real server: the overview with the
evaluation table, a product's related products, and the panel on a customer's page."""

from __future__ import annotations

import pytest

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from patron.recommendations import service
from tests.recommendations.shop import NOW, load, planted

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"


@pytest.fixture
def database(tmp_path) -> tuple[str, int]:
    """A trained and evaluated planted shop; the url and one customer's id."""
    url = f"sqlite:///{tmp_path / 'recs.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=NOW)
        ids = load(s, planted(customers=80, lines=500))
    service.train(sessions=sessions, now=NOW)
    service.run_evaluation(sessions=sessions, now=NOW, test_days=30)
    engine.dispose()
    return url, ids["customers"]["c2"]


def test_overview_product_and_customer_pages(database, start_server, page):
    url, customer_id = database
    server = start_server(url)
    page.goto(f"{server}/recommendations")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    evaluation = page.get_by_test_id("evaluation")
    for kind in ("personal", "cross-sell", "up-sell", "down-sell", "popular"):
        assert evaluation.get_by_role("cell", name=kind, exact=True).count() == 1
    assert "ready" in page.get_by_test_id("versions").inner_text()
    page.get_by_test_id("recs-popular").get_by_role("link").first.click()
    page.wait_for_url("**/recommendations/products/*")
    related = page.get_by_test_id("related")
    assert related.get_by_test_id("recs-cross_sell").get_by_role("link").count() >= 3
    assert (
        related.get_by_test_id("recs-up_sell").count()
        + related.get_by_text("Nothing to recommend").count()
        >= 1
    )
    page.goto(f"{server}/customers/{customer_id}")
    panel = page.get_by_test_id("recommendations-panel")
    assert panel.get_by_test_id("recs-personal").get_by_role("link").count() >= 3
    page.goto(f"{server}/recommendations/products/NOPE")
    assert page.get_by_text("not found").count() >= 1
