"""Overview, KPI, cohort and customer pages as a marketer reads them (issue 8, UX)."""

from __future__ import annotations

import re
from datetime import timedelta

from patron.customers import service as customers_service
from patron.customers.rules import LineInput, OrderInput
from patron.dashboard import charts
from patron.db import transaction, utcnow
from patron.web.filters import signed_money
from tests.dashboard.conftest import login


def _order(session, external_id: str, customer: str, cents: int, days_ago: float):
    """Record an order placed days_ago before now."""
    customers_service.record_order(
        session=session,
        now=utcnow(),
        order=OrderInput(
            external_id=external_id,
            customer_external_id=customer,
            total_cents=cents,
            placed_at=utcnow() - timedelta(days=days_ago),
            lines=(LineInput(sku="MUG-1", name="Blue Mug", unit_price_cents=cents),),
        ),
    )


def _active_chips(html: str) -> list[str]:
    return re.findall(r'class="chip active"[^>]*>([^<]+)<', html)


def test_the_active_range_chip_is_highlighted_by_default_by_preset_and_by_dates(client):
    login(client)
    assert _active_chips(client.get("/").text) == ["Last 30 days"]
    assert _active_chips(client.get("/?preset=365").text) == ["Last 365 days"]
    today = utcnow().date()
    same = {"from": str(today - timedelta(days=89)), "to": str(today)}
    assert _active_chips(client.get("/", params=same).text) == ["Last 90 days"]
    other = {"from": str(today - timedelta(days=10)), "to": str(today - timedelta(days=2))}
    assert _active_chips(client.get("/", params=other).text) == []


def test_overview_and_kpi_pages_default_to_the_same_range(client):
    login(client)
    overview = client.get("/").text
    kpis = client.get("/analytics").text
    start, end = re.search(r"(\d{4}-\d\d-\d\d) – (\d{4}-\d\d-\d\d) \(", overview).groups()
    assert f'name="start" value="{start}"' in kpis and f'name="end" value="{end}"' in kpis


def test_money_changes_carry_a_sign():
    assert signed_money(123_400) == "+$1,234.00"
    assert signed_money(-5_600) == "\u2212$56.00"
    assert signed_money(-5_600, whole=True) == "\u2212$56"
    assert signed_money(0) == "$0.00"


def test_the_overview_and_kpi_page_show_money_changes_with_their_sign(client, db):
    with transaction(db.sessions) as s:
        _order(s, "o1", "ada", 5000, days_ago=40)  # the previous 30 days
        _order(s, "o2", "bob", 1000, days_ago=3)
    login(client)
    overview = client.get("/").text
    assert 'data-testid="revenue-amount">(\u2212$40.00)<' in overview
    kpis = client.get("/analytics").text
    row = kpis.split("<td>Average order value</td>")[1].split("</tr>")[0]
    assert "\u2212$40.00" in row


def test_the_revenue_axis_starts_at_zero():
    today = utcnow().date()
    daily = [(today - timedelta(days=d), 100_000 + 100 * d) for d in range(10)]
    svg = str(charts.daily_revenue_chart(daily))
    axis = svg.split('class="axis y')[1].split("</g></g>")[0]
    labels = [float(t.replace(",", "")) for t in re.findall(r"<text[^>]*>([\d,.]+)</text>", axis)]
    assert min(labels) == 0


def test_the_cohort_table_marks_the_month_in_progress_and_scrolls_inside_its_card(client, db):
    with transaction(db.sessions) as s:
        _order(s, "o1", "ada", 1000, days_ago=70)
        _order(s, "o2", "ada", 1000, days_ago=0)
        _order(s, "o3", "bob", 1000, days_ago=0)
    login(client)
    page = client.get("/analytics/cohorts?months=24").text
    month = utcnow().strftime("%Y-%m")
    assert f"fall in {month}, the month in progress" in page
    assert page.count('data-testid="partial-cell"') == 2  # ada's cohort and bob's, this month
    row = page.split(f'<th class="nowrap">{month}')[1].split("</tr>")[0]
    assert "partial</span>" in row
    assert '<div class="scroll" data-testid="cohorts-scroll">' in page
    assert 'class="heat compact"' in page


def test_a_customer_without_scores_is_told_how_they_will_get_them(client, db):
    with transaction(db.sessions) as s:
        _order(s, "o1", "ada", 1000, days_ago=1)
    login(client)
    link = re.search(r'href="(/customers/\d+)"', client.get("/customers").text).group(1)
    page = client.get(link).text
    panel = page.split('data-testid="no-scores"')[1].split("</p>")[0]
    assert "computed by the scheduled refresh (every 1,440 minutes)" in panel
    assert 'href="/admin">Refresh now on Admin' in panel


def test_the_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/login").text
