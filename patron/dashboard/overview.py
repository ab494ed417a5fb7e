"""The overview page at `/`: headline figures of a date range beside the range before."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from patron.dashboard import charts, periods, service
from patron.dashboard.web import current_user, render
from patron.db import utcnow
from patron.deps import READ_SESSION
from patron.errors import InvalidInput

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview_page(
    request: Request,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    preset: int | None = None,
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """Show customers, orders, revenue, repeat rate and order value for a date range."""
    today, error = utcnow().date(), None
    try:
        period = periods.choose_period(start=start, end=end, preset=preset, today=today)
    except InvalidInput as exc:
        period, error = periods.last_days(periods.DEFAULT_DAYS, today), exc.message
    result = service.overview(session=session, period=period)
    now, then = result.current, result.before
    changes = {
        "buyers": periods.relative_change(now.buyers, then.buyers),
        "customers_total": periods.relative_change(now.customers_total, then.customers_total),
        "new_buyers": periods.relative_change(now.new_buyers, then.new_buyers),
        "orders": periods.relative_change(now.orders, then.orders),
        "revenue": periods.relative_change(now.revenue_cents, then.revenue_cents),
        "repeat_rate": periods.point_change(now.repeat_rate, then.repeat_rate),
        "average_order": periods.relative_change(now.average_order_cents, then.average_order_cents),
    }
    return render(
        request,
        "dashboard/overview.html",
        {
            "overview": result,
            "changes": changes,
            "error": error,
            "presets": periods.PRESETS,
            "preset": preset if error is None else None,
            "chart": charts.daily_revenue_chart(result.daily_revenue),
        },
    )
