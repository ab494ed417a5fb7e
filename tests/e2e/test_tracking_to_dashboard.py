"""From tracking calls over HTTP to the REST API and the dashboard in a real browser."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e
EMAIL, PASSWORD = "owner@example.com", "e2e password 1"


def _keys(db) -> tuple[str, str]:
    """Create a dashboard user, a track key and a read key; return the two keys."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=utcnow())
        track = auth_service.create_key(session=s, name="site", scopes="track", now=utcnow())[1]
        read = auth_service.create_key(session=s, name="bi", scopes="read", now=utcnow())[1]
    return track, read


def _batch() -> dict:
    """A browsing session of Ada ending in two orders, and one order by Bob."""

    def at(days_ago: float) -> str:
        return (utcnow() - timedelta(days=days_ago)).isoformat()

    product = {
        "product_id": "MUG-1",
        "sku": "MUG-1",
        "name": "Blue Mug",
        "price": 12.5,
        "category": "Kitchen",
    }
    return {
        "batch": [
            {"type": "page", "anonymousId": "anon-ada", "name": "Home", "timestamp": at(3)},
            {
                "type": "track",
                "anonymousId": "anon-ada",
                "event": "Product Viewed",
                "properties": product,
                "timestamp": at(3),
            },
            {
                "type": "identify",
                "userId": "ada",
                "anonymousId": "anon-ada",
                "timestamp": at(3),
                "traits": {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
            },
            {
                "type": "track",
                "userId": "ada",
                "event": "Order Completed",
                "timestamp": at(3),
                "properties": {
                    "order_id": "E2E-1",
                    "total": 25.0,
                    "currency": "USD",
                    "products": [{**product, "quantity": 2}],
                },
            },
            {
                "type": "track",
                "userId": "ada",
                "event": "Order Completed",
                "timestamp": at(1),
                "properties": {
                    "order_id": "E2E-2",
                    "total": 12.5,
                    "currency": "USD",
                    "products": [{**product, "quantity": 1}],
                },
            },
            {
                "type": "identify",
                "userId": "bob",
                "timestamp": at(2),
                "traits": {"email": "bob@example.com", "firstName": "Bob", "lastName": "Stone"},
            },
            {
                "type": "track",
                "userId": "bob",
                "event": "Order Completed",
                "timestamp": at(2),
                "properties": {"order_id": "E2E-3", "total": 40.0, "currency": "USD"},
            },
        ]
    }


def test_tracked_orders_reach_the_api_and_the_dashboard(db, start_server, page):
    track_key, read_key = _keys(db)
    base = start_server(db.url)
    sent = httpx.post(f"{base}/v1/batch", json=_batch(), auth=(track_key, ""), timeout=30)
    assert sent.status_code == 200, sent.text

    listed = httpx.get(
        f"{base}/api/orders", timeout=30, headers={"Authorization": f"Bearer {read_key}"}
    )
    assert listed.status_code == 200, listed.text
    orders = {o["external_id"]: o for o in listed.json()["items"]}
    assert {k: o["total_cents"] for k, o in orders.items()} == {
        "E2E-1": 2500,
        "E2E-2": 1250,
        "E2E-3": 4000,
    }
    assert orders["E2E-1"]["customer_id"] == orders["E2E-2"]["customer_id"]
    assert [line["quantity"] for line in orders["E2E-1"]["lines"]] == [2]

    log_in(page, base, EMAIL, PASSWORD)
    assert page.inner_text("[data-testid=orders] .value").strip() == "3"
    assert page.inner_text("[data-testid=revenue] .value").strip() == "$77.50"
    assert page.inner_text("[data-testid=buyers] .value").strip() == "2"
    assert page.inner_text("[data-testid=repeat-rate] .value").strip() == "50.0%"
    page.screenshot(path="/tmp/overview.png", full_page=True)

    page.click("nav a[href='/customers']")
    page.fill("input[name=q]", "lovelace")
    page.click("form[role=search] button")
    page.click("text=Ada Lovelace")
    page.wait_for_selector("table[data-testid=orders]")
    orders_table = page.inner_text("table[data-testid=orders]")
    assert "E2E-1" in orders_table and "E2E-2" in orders_table and "E2E-3" not in orders_table
    assert "$25.00" in orders_table and "2 × Blue Mug" in orders_table
    assert "Product Viewed" in page.inner_text("body")  # the anonymous view, now linked
