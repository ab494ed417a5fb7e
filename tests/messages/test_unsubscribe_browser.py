"""The unsubscribe page in a real Chromium against a real server: one click unsubscribes; a
damaged link says so and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from patron.customers import service as customers
from patron.customers.tables import Customer
from patron.db import make_engine, make_sessionmaker, transaction
from patron.messages import links
from patron.migrate import upgrade
from tests import factories
from tests.live import SECRET


@pytest.fixture
def database(tmp_path) -> str:
    """A migrated SQLite file with customer c1 who consented to email."""
    url = f"sqlite:///{tmp_path / 'unsubscribe.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        c = factories.customer(s, "c1", email="c1@example.com")
        customers.set_consent(
            session=s, customer=c, channel="email", status="granted", source="t", now=factories.T0
        )
    engine.dispose()
    return url


def _consent(url: str) -> str:
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as s:
            c = s.scalar(select(Customer))
            return customers.consent_status(c, "email")
    finally:
        engine.dispose()


def test_unsubscribe_page_in_chromium(database, start_server, page):
    from playwright.sync_api import expect

    server = start_server(database)
    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        customer_id = s.scalar(select(Customer.id))
    engine.dispose()
    token = links.unsubscribe_token(SECRET, customer_id=customer_id, outbox_id=None)

    damaged = page.goto(f"{server}/u/{token[:-3]}abc")
    assert damaged.status == 400
    expect(page.locator("[data-testid=unsubscribe]")).to_have_attribute("data-state", "invalid")
    assert _consent(database) == "granted"

    page.goto(f"{server}/u/{token}")
    expect(page.locator("[data-testid=unsubscribe]")).to_have_attribute("data-state", "ask")
    assert _consent(database) == "granted"  # showing the page changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("[data-testid=unsubscribe]")).to_have_attribute("data-state", "done")
    expect(page.locator("h1")).to_have_text("Unsubscribed")
    assert _consent(database) == "unsubscribed"
    assert page.context.cookies() == []
