"""Dashboard pages of customer intelligence: KPIs, RFM grid, cohorts, CLV, churn risk."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.analytics import charts, links, service
from patron.analytics.kpis import DEFAULT_RANGE_DAYS
from patron.analytics.rfm import LOYAL_HELP, segment_label
from patron.db import utcnow
from patron.deps import READ_SESSION
from patron.errors import InvalidInput
from patron.web.render import render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)

SECTIONS = (
    ("/analytics", "KPIs"),
    ("/analytics/rfm", "RFM segments"),
    ("/analytics/cohorts", "Cohorts"),
    ("/analytics/clv", "Lifetime value"),
    ("/analytics/churn", "Churn risk"),
)


def _page(request: Request, name: str, session: Session, context: dict, status: int = 200):
    """Render an analytics page with the section menu and the latest refresh."""
    run = service.latest_run(session=session)
    shared = {"sections": SECTIONS, "run": run, "rfm_label": segment_label, "links": links}
    return render(request, f"analytics/{name}.html", {**shared, **context}, status_code=status)


def _dates(start: str, end: str) -> tuple[date, date]:
    """Parse the form's dates (default: the overview's, the last 30 days) or raise InvalidInput."""
    try:
        last = date.fromisoformat(end) if end else utcnow().date()
        first = (
            date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        )
    except ValueError:
        raise InvalidInput("dates must be given as YYYY-MM-DD")
    service.check_range(first, last)
    return first, last


@router.get("/analytics")
def kpi_page(
    request: Request,
    start: str = "",
    end: str = "",
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """KPIs of a date range beside the previous period, with their formulas."""
    try:
        first, last = _dates(start, end)
    except InvalidInput as exc:
        return _page(
            request,
            "kpis",
            session,
            {"error": exc.message, "report": None, "start": start, "end": end},
            status=422,
        )
    report = service.kpi_report(session=session, start=first, end=last)
    return _page(
        request,
        "kpis",
        session,
        {"report": report, "start": first.isoformat(), "end": last.isoformat()},
    )


@router.get("/analytics/rfm")
def rfm_page(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """The R x FM grid of customers with segment names, and segment sizes."""
    overview = service.rfm_overview(session=session)
    chart = charts.segment_chart(overview["segments"]) if overview["customers"] else None
    context = {"rfm": overview, "chart": chart, "loyal_help": LOYAL_HELP}
    return _page(request, "rfm", session, context)


@router.get("/analytics/cohorts")
def cohorts_page(
    request: Request,
    months: int = 12,
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """Monthly cohort retention as a shaded table."""
    months = min(max(months, 1), 36)
    report = service.cohort_report(session=session, now=utcnow(), months=months)
    return _page(request, "cohorts", session, {"report": report, "months": months})


@router.get("/analytics/clv")
def clv_page(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """Distribution of predicted 12-month CLV and the fitted models."""
    distribution = service.clv_distribution(session=session)
    chart = charts.histogram_chart(distribution["bins"]) if distribution["customers"] else None
    deciles = service.clv_deciles(session=session) if distribution["customers"] else []
    context = {"distribution": distribution, "chart": chart, "deciles": deciles}
    return _page(request, "clv", session, context)


@router.get("/analytics/churn")
def churn_page(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """Customers most worth winning back: churn risk weighted by what they spent."""
    rows = service.churn_risk_list(session=session, limit=50)
    # The list as a rule: likely lost (churn risk at least 50%) and spent at least the least of
    # the customers listed; opens the builder prefilled to adjust.
    spent = min((r["total_spent_cents"] or 0 for r in rows), default=0)
    rule = links.churn(0.5, spent)
    context = {"rows": rows, "list_rule": rule, "list_spent": spent, "loyal_help": LOYAL_HELP}
    return _page(request, "churn", session, context)


def insights_panel(*, session: Session, customer_id: int, settings=None) -> dict:
    """Context of the insights panel on a customer's page (with the refresh schedule)."""
    return {
        "insights": service.customer_insights(session=session, customer_id=customer_id),
        "refresh_every": settings.refresh_interval_minutes if settings else None,
        "rfm_label": segment_label,
        "loyal_help": LOYAL_HELP,
    }
