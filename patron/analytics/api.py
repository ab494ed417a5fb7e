"""REST API of customer intelligence: per-customer insights, KPIs, cohorts and RFM (read scope)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from patron.analytics import service
from patron.db import utcnow
from patron.deps import READ_SESSION, require_scope

router = APIRouter(prefix="/api", tags=["analytics"], dependencies=[Depends(require_scope("read"))])


@router.get("/customers/{customer_id}/insights")
def customer_insights(customer_id: int, session: Session = READ_SESSION) -> dict:
    """Scores, lifecycle stage and its history, P(alive), expected purchases, predicted CLV."""
    return service.customer_insights(session=session, customer_id=customer_id)


@router.get("/analytics/kpis")
def kpis(
    start: date | None = Query(None, description="First day (UTC); default 29 days before end."),
    end: date | None = Query(None, description="Last day (UTC), inclusive; default today."),
    session: Session = READ_SESSION,
) -> dict:
    """KPIs of a date range beside those of the previous period of the same length."""
    end = end or utcnow().date()
    start = start or end - timedelta(days=29)
    return service.kpi_report(session=session, start=start, end=end)


@router.get("/analytics/cohorts")
def cohorts(
    months: int = Query(12, ge=1, le=120, description="Monthly cohorts to show."),
    session: Session = READ_SESSION,
) -> dict:
    """Share of each first-purchase month's customers active in each following month."""
    return service.cohort_report(session=session, now=utcnow(), months=months)


@router.get("/analytics/rfm")
def rfm(session: Session = READ_SESSION) -> dict:
    """RFM segment sizes, the R x FM grid of counts and the score rule table."""
    return service.rfm_overview(session=session)
