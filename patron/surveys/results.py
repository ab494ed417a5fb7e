"""Set-based reads of survey results: NPS over time, by segment, stage and tier; verbatims.

Counts are grouped in SQL (one query per breakdown); NPS comes from `rules.nps`. Segments are
current memberships (segments' read model); stages the latest scores (analytics' read model);
tiers the loyalty accounts (loyalty's read model).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from patron.analytics.read import CustomerScore
from patron.customers.read import Customer
from patron.loyalty.read import LoyaltyAccount
from patron.segments.read import Segment, SegmentMembership
from patron.surveys import rules
from patron.surveys.tables import SurveyResponse

R = SurveyResponse


class month_of(FunctionElement):
    """The UTC month 'YYYY-MM' of a timestamp on SQLite and PostgreSQL."""

    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_pg(element, compiler, **kw):
    return f"to_char({compiler.process(next(iter(element.clauses)), **kw)}, 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(next(iter(element.clauses)), **kw)})"


def _counts():
    """promoters, passives, detractors, answers, average score."""
    return (
        func.count(case((R.nps_category == "promoter", 1))),
        func.count(case((R.nps_category == "passive", 1))),
        func.count(case((R.nps_category == "detractor", 1))),
        func.count(R.score),
        func.avg(R.score),
    )


def _row(label, p, pa, d, n, avg) -> dict:
    return {
        "label": label,
        "promoters": p,
        "passives": pa,
        "detractors": d,
        "answers": n,
        "nps": rules.nps(p, pa, d) if p + pa + d else None,
        "average": round(float(avg), 2) if avg is not None else None,
    }


def _filtered(query, survey_id: int | None, filters: dict):
    """Apply the results page's filters: survey, category, since, until, text."""
    if survey_id is not None:
        query = query.where(R.survey_id == survey_id)
    if filters.get("category"):
        query = query.where(R.nps_category == filters["category"])
    if filters.get("since"):
        query = query.where(R.answered_at >= filters["since"])
    if filters.get("until"):
        query = query.where(R.answered_at < filters["until"])
    if filters.get("q"):
        query = query.where(R.comment.ilike(f"%{filters['q']}%"))
    if filters.get("segment_id"):
        query = query.join(
            SegmentMembership,
            (SegmentMembership.customer_id == R.customer_id)
            & (SegmentMembership.segment_id == filters["segment_id"]),
        )
    return query


def summary(session: Session, *, survey_id: int | None = None, **filters) -> dict:
    """Counts, NPS and the average score of the answers that match."""
    found = session.execute(_filtered(select(*_counts()), survey_id, filters)).one()
    return _row("all", *found)


def over_time(session: Session, *, survey_id: int | None = None, **filters) -> list[dict]:
    """NPS per UTC month."""
    month = month_of(R.answered_at)
    query = _filtered(select(month, *_counts()), survey_id, filters).group_by(month).order_by(month)
    return [_row(*row) for row in session.execute(query)]


def by_segment(session: Session, *, survey_id: int | None = None, **filters) -> list[dict]:
    """NPS of each segment's current members."""
    m = SegmentMembership
    query = (
        _filtered(select(Segment.name, *_counts()), survey_id, filters)
        .join(m, m.customer_id == R.customer_id)
        .join(Segment, Segment.id == m.segment_id)
        .group_by(Segment.name)
        .order_by(Segment.name)
    )
    return [_row(*row) for row in session.execute(query)]


def by_stage(session: Session, *, survey_id: int | None = None, **filters) -> list[dict]:
    """NPS by the customers' lifecycle stage (unscored customers under 'unscored')."""
    stage = func.coalesce(CustomerScore.lifecycle_stage, "unscored")
    query = (
        _filtered(select(stage, *_counts()), survey_id, filters)
        .outerjoin(CustomerScore, CustomerScore.customer_id == R.customer_id)
        .group_by(stage)
        .order_by(stage)
    )
    return [_row(*row) for row in session.execute(query)]


def by_tier(session: Session, *, survey_id: int | None = None, **filters) -> list[dict]:
    """NPS by the customers' loyalty tier (customers with no tier under 'no tier')."""
    tier = func.coalesce(LoyaltyAccount.tier, "no tier")
    query = (
        _filtered(select(tier, *_counts()), survey_id, filters)
        .outerjoin(LoyaltyAccount, LoyaltyAccount.customer_id == R.customer_id)
        .group_by(tier)
        .order_by(tier)
    )
    return [_row(*row) for row in session.execute(query)]


def verbatims(
    session: Session, *, survey_id: int | None = None, limit: int = 50, **filters
) -> list[dict]:
    """The newest answers with a comment or any answer, with who gave them."""
    query = (
        _filtered(
            select(
                R.id,
                R.score,
                R.nps_category,
                R.comment,
                R.answers,
                R.answered_at,
                R.updated_at,
                R.revisions,
                R.channel,
                Customer.email,
                Customer.external_id,
                R.customer_id,
            ),
            survey_id,
            filters,
        )
        .join(Customer, Customer.id == R.customer_id)
        .order_by(R.updated_at.desc(), R.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    return [dict(row._mapping) for row in session.execute(query)]


def nps_counts(*, session: Session, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(promoters, passives, detractors) of NPS answers given in [start, end)."""
    query = select(*_counts()[:3]).where(
        R.question_type == "nps", R.answered_at >= start, R.answered_at < end
    )
    p, pa, d = session.execute(query).one()
    return int(p), int(pa), int(d)
