"""The demo generator: deterministic, and its shop behaves like a real one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from patron.demo import rules

NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def shop() -> rules.DemoShop:
    """A mid-sized generated shop shared by the believability checks."""
    return rules.generate(seed=42, customers=2000, now=NOW)


def test_same_seed_same_shop_and_another_seed_another():
    first = rules.generate(seed=5, customers=200, now=NOW)
    assert rules.generate(seed=5, customers=200, now=NOW) == first
    other = rules.generate(seed=6, customers=200, now=NOW)
    assert other.orders != first.orders and other.customers != first.customers


def test_catalogue_has_about_120_products_in_8_categories_with_shop_prices(shop):
    assert len(shop.products) == 120
    assert len({p["sku"] for p in shop.products}) == 120
    assert len({p["category"] for p in shop.products}) == 8
    prices = [p["price_cents"] for p in shop.products]
    assert min(prices) >= 100 and max(prices) <= 20000
    assert sum(1 for p in prices if p % 100 == 99) > len(prices) / 2  # mostly x.99


def test_orders_span_two_years_up_to_now_with_consistent_money(shop):
    times = [o["placed_at"] for o in shop.orders]
    assert max(times) < NOW and min(times) >= NOW - timedelta(days=rules.HISTORY_DAYS)
    assert times == sorted(times)
    lines = Counter()
    for line in shop.lines:
        lines[line["order"]] += line["quantity"] * line["unit_price_cents"]
    for index, order in enumerate(shop.orders):
        assert order["total_cents"] == lines[index] - order["discount_cents"] > 0
        assert 0 <= order["refunded_cents"] <= order["total_cents"]
        if order["status"] == "refunded":
            assert order["refunded_cents"] == order["total_cents"]


def test_buyers_mix_one_off_and_regular_customers(shop):
    per_customer = Counter(o["customer"] for o in shop.orders)
    one_off = sum(1 for n in per_customer.values() if n == 1) / len(per_customer)
    assert 0.35 < one_off < 0.75
    assert sum(1 for n in per_customer.values() if n >= 5) > 0.03 * len(per_customer)
    assert len(per_customer) < len(shop.customers)  # some never buy


def test_november_and_december_are_busier_than_the_rest_of_the_year(shop):
    months = Counter(
        o["placed_at"].month for o in shop.orders if o["placed_at"] >= NOW - timedelta(days=365)
    )
    holiday = (months[11] + months[12]) / 61
    rest = sum(n for m, n in months.items() if m not in (11, 12)) / 304
    assert holiday > 1.3 * rest


def test_refunds_cancellations_and_coupons_are_present_in_believable_shares(shop):
    statuses = Counter(o["status"] for o in shop.orders)
    total = len(shop.orders)
    assert 0.015 < statuses["refunded"] / total < 0.05
    assert statuses["cancelled"] > 0 and statuses["partially_refunded"] > 0
    coupons = Counter(o["coupon_code"] for o in shop.orders if o["coupon_code"])
    assert 0.05 < sum(coupons.values()) / total < 0.4
    assert {"WELCOME10", "HOLIDAY20"} <= set(coupons)


def test_customers_have_profiles_and_mostly_granted_email_consent(shop):
    emails = [c["email"] for c in shop.customers]
    assert len(set(emails)) == len(emails)
    assert all(c["locale"] and c["time_zone"] and c["first_name"] for c in shop.customers)
    email = Counter(c["status"] for c in shop.consents if c["channel"] == "email")
    assert email["granted"] > 0.6 * len(shop.customers)
    assert email["denied"] > 0 and email["unsubscribed"] > 0


def test_events_include_views_carts_pages_and_linked_anonymous_visitors(shop):
    names = Counter(e["name"] for e in shop.events)
    assert names["Product Viewed"] > 0 and names["Added to Cart"] > 0
    assert any(e["type"] == "page" for e in shop.events)
    linked = {link["anonymous_id"] for link in shop.links}
    assert linked and all(
        e["customer"] is not None for e in shop.events if e["anonymous_id"] in linked
    )
    assert any(e["customer"] is None for e in shop.events)
    assert len({e["message_id"] for e in shop.events}) == len(shop.events)
