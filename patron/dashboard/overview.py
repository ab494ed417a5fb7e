"""The overview page at `/`: headline figures of a date range beside the range before.

Every figure comes from `patron.analytics.service` under the names /analytics uses, so one
figure has one name (and one help text) wherever it is shown.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from patron.analytics import service as analytics
from patron.dashboard import charts, periods
from patron.db import utcnow
from patron.deps import READ_SESSION
from patron.errors import InvalidInput
from patron.web.render import render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)
# Help lines of the figures that are counts rather than KPIs (KPIs carry their formula).
COUNT_HELP = {
    "revenue": "Net of refunds, orders that are neither cancelled nor refunded.",
    "orders": "Orders placed in the period that are neither cancelled nor refunded.",
    "customers": "Customers with at least one such order in the period (E on /analytics).",
    "first_time": "Customers whose first order ever was placed in the period.",
    "customers_total": "Customer profiles created before the end of the period, buyers or not.",
}


def _changes(report: dict) -> dict:
    """How each figure moved against the previous period."""
    now, then, kpis = report["period"], report["previous_period"], report["kpis"]
    changes = {
        name: periods.relative_change(now[name], then[name])
        for name in ("revenue_cents", "orders", "customers", "first_time_customers")
    }
    changes["customers_total"] = periods.relative_change(
        now["customers_total"], then["customers_total"]
    )
    repeat, aov = kpis["repeat_purchase_rate"], kpis["average_order_value"]
    changes["repeat_purchase_rate"] = periods.point_change(repeat["value"], repeat["previous"])
    changes["average_order_value"] = periods.relative_change(aov["value"], aov["previous"])
    return changes


@router.get("/")
def overview_page(
    request: Request,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    preset: int | None = None,
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """Show revenue, orders, buyers, repeat-purchase rate and order value for a date range."""
    today, error = utcnow().date(), None
    try:
        period = periods.choose_period(start=start, end=end, preset=preset, today=today)
        analytics.check_range(period.start, period.end)
    except InvalidInput as exc:
        period, error = periods.last_days(periods.DEFAULT_DAYS, today), exc.message
    report = analytics.overview_report(session=session, start=period.start, end=period.end)
    return render(
        request,
        "dashboard/overview.html",
        {
            "report": report,
            "period": period,
            "changes": _changes(report),
            "help": COUNT_HELP,
            "error": error,
            "presets": periods.PRESETS,
            "preset": periods.active_preset(period, today),
            "chart": charts.daily_revenue_chart(report["daily_revenue"]),
        },
    )
