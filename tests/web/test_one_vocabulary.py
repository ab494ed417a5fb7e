"""The overview and /analytics show one repeat-purchase figure under one name and help text."""

from __future__ import annotations

import re
from datetime import timedelta

from patron.analytics.service import KPI_HELP
from patron.customers import service as customers_service
from patron.customers.rules import LineInput, OrderInput
from patron.db import transaction, utcnow
from tests.dashboard.conftest import login


def _order(session, external_id: str, customer: str, days_ago: float):
    """Record a 10.00 order placed days_ago before now."""
    customers_service.record_order(
        session=session,
        now=utcnow(),
        order=OrderInput(
            external_id=external_id,
            customer_external_id=customer,
            total_cents=1000,
            placed_at=utcnow() - timedelta(days=days_ago),
            lines=(LineInput(sku="MUG-1", name="Blue Mug", unit_price_cents=1000),),
        ),
    )


def test_overview_and_analytics_agree_on_the_repeat_purchase_rate(client, db):
    # ada: bought long ago and once in the period (a returning buyer, not a repeat purchaser
    # in the period); bob: twice in the period; cy, dee: once each in the period.
    with transaction(db.sessions) as s:
        _order(s, "o1", "ada", 200)
        _order(s, "o2", "ada", 3)
        _order(s, "o3", "bob", 4)
        _order(s, "o4", "bob", 2)
        _order(s, "o5", "cy", 1)
        _order(s, "o6", "dee", 5)
    login(client)
    today = utcnow().date()
    start = today - timedelta(days=29)
    overview = client.get("/", params={"from": str(start), "to": str(today)}).text
    analytics = client.get("/analytics", params={"start": str(start), "end": str(today)}).text
    label, formula = next((lab, f) for n, lab, _, f in KPI_HELP if n == "repeat_purchase_rate")
    tile = overview.split('data-testid="repeat-rate"')[1].split('<div class="tile"')[0]
    assert f'<div class="label">{label}</div>' in tile
    assert re.search(r'class="value">\s*25\.0%', tile)  # bob of 4 buyers
    row = analytics.split(f"<td>{label}</td>")[1].split("</tr>")[0]
    assert '<td class="num">25.0%</td>' in row
    assert formula in tile and formula in row
    assert overview.count(label) == 1  # no other figure on the page shares the name
    assert "50.0%" not in tile  # the old overview counted returning buyers (ada, bob) here
