"""Use cases of customer intelligence: KPIs, cohorts, RFM overview, insights, refresh job.

KPIs compare a date range with the previous period of the same length. Counted orders exclude
cancelled and refunded ones; revenue is net of refunds; money is in cents (one currency assumed).
Windows are whole UTC days: ``start`` 00:00 to the day after ``end`` 00:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from patron.analytics.cohorts import retention_matrix
from patron.analytics.kpis import KPI_HELP, kpi_rows, period_kpis
from patron.analytics.queries import (
    activity_pairs,
    churn_risk_rows,
    clv_bins,
    clv_cap,
    clv_decile_rows,
    rfm_cells,
    window_counts,
)
from patron.analytics.refresh import DEFAULT_MODEL, RefreshReport, refresh
from patron.analytics.rfm import SEGMENT_RULES, SEGMENTS
from patron.analytics.store import SCORE_COLUMNS
from patron.analytics.tables import CustomerScore, LifecycleChange, ScoreRun
from patron.customers import service as customers_service
from patron.db import make_sessionmaker
from patron.errors import InvalidInput
from patron.manifest import contributions

__all__ = ["KPI_HELP", "RefreshReport", "kpi_rows", "period_kpis", "refresh"]

MAX_RANGE_DAYS = 3660
# Extension point: `(session=, start=, end=) -> (promoters, passives, detractors)` of NPS answers.
NPS_POINT = "analytics.nps"


def check_range(start: date, end: date) -> None:
    """Refuse a date range that ends before it starts or is absurdly long or out of era."""
    if end < start:
        raise InvalidInput(f"end {end} is before start {start}")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"the range may span at most {MAX_RANGE_DAYS} days")
    if start.year < 1970 or end.year > 2200:
        raise InvalidInput("dates must lie between 1970 and 2200")


def _midnight(day: date) -> datetime:
    """00:00 UTC of a day."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def kpi_report(*, session: Session, start: date, end: date) -> dict:
    """KPIs of [start, end] beside those of the previous period of the same length."""
    check_range(start, end)
    length = timedelta(days=(end - start).days + 1)
    edges = [
        _midnight(start) - 2 * length,
        _midnight(start) - length,
        _midnight(start),
        _midnight(start) + length,
    ]
    w0, w1, w2 = window_counts(session, edges=edges)
    current = period_kpis(w1, w2, nps_counts(session, edges[2], edges[3]))
    previous = period_kpis(w0, w1, nps_counts(session, edges[1], edges[2]))
    rows = kpi_rows(current, previous)
    prev_start = start - length
    return {
        "period": _period_dict(start, end, w2, w1["active"]),
        "previous_period": _period_dict(prev_start, start - timedelta(days=1), w1, w0["active"]),
        "kpis": rows,
    }


def nps_counts(session: Session, start: datetime, end: datetime) -> tuple[int, int, int] | None:
    """(promoters, passives, detractors) in [start, end) summed over the `analytics.nps`
    providers (surveys contributes one); None when no capability provides answers."""
    providers = contributions(NPS_POINT)
    if not providers:
        return None
    found = [provider(session=session, start=start, end=end) for provider in providers]
    return tuple(sum(counts[i] for counts in found) for i in range(3))


def _period_dict(start: date, end: date, counts: dict[str, int], customers_start: int) -> dict:
    """The counts behind one period's KPIs."""
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "customers_start": customers_start,
        "customers": counts["active"],
        "retained_customers": counts["retained"],
        "first_time_customers": counts["first_time"],
        "orders": counts["orders"],
        "revenue_cents": counts["revenue_cents"],
    }


def _month_index(moment: datetime) -> int:
    """Months since 1970-01 of a moment."""
    return (moment.year - 1970) * 12 + moment.month - 1


def cohort_report(*, session: Session, now: datetime, months: int = 12) -> dict:
    """Retention of the last `months` monthly first-purchase cohorts, month by month after."""
    if not 1 <= months <= 120:
        raise InvalidInput("months must be between 1 and 120")
    last = _month_index(now)
    since = datetime(1970 + (last - months + 1) // 12, (last - months + 1) % 12 + 1, 1, tzinfo=UTC)
    ids, month_values = activity_pairs(session, first_since=since, end=now)
    if ids.size == 0:
        return {"cohorts": [], "months": months}
    periods = month_values.astype(np.int64)
    customers, index = np.unique(ids, return_inverse=True)
    first = np.full(customers.size, np.iinfo(np.int64).max)
    np.minimum.at(first, index, periods)
    table = retention_matrix(first, index, periods, last_period=last, n_periods=months)
    rows = []
    for i, cohort in enumerate(table.cohorts.tolist()):
        shares = [
            None if not table.observed[i, k] else round(float(table.retention[i, k]), 4)
            for k in range(table.retention.shape[1])
        ]
        rows.append(
            {
                "cohort": _month_label(int(cohort)),
                "customers": int(table.sizes[i]),
                "retention": shares,
                "active": [int(v) for v in table.active[i]],
                # The month in progress: its cell counts only the days so far.
                "partial_index": last - int(cohort),
            }
        )
    return {"cohorts": rows, "months": months, "current_month": _month_label(last)}


def _month_label(index: int) -> str:
    """A month index (12 * (year - 1970) + month - 1) as YYYY-MM."""
    return str(np.datetime64(index, "M"))


def rfm_overview(*, session: Session) -> dict:
    """Segment sizes, the R x FM grid of counts and the rule table of the stored scores."""
    cells = rfm_cells(session)
    grid = [[0] * 5 for _ in range(5)]
    sizes = dict.fromkeys(SEGMENTS, 0)
    for r, fm, segment, count in cells:
        grid[r - 1][fm - 1] += count
        sizes[segment] = sizes.get(segment, 0) + count
    total = sum(sizes.values())
    segments = [
        {
            "name": rule.name,
            "customers": sizes[rule.name],
            "share": sizes[rule.name] / total if total else None,
            "r": [rule.r_min, rule.r_max],
            "fm": [rule.fm_min, rule.fm_max],
        }
        for rule in SEGMENT_RULES
    ]
    names = [[_segment_of(r, fm) for fm in range(1, 6)] for r in range(1, 6)]
    return {
        "customers": total,
        "segments": segments,
        "grid": grid,
        "grid_segments": names,
        "fm_rule": "FM = ceil((F + M) / 2)",
    }


def _segment_of(r: int, fm: int) -> str:
    """The segment of an (R, FM) cell: the first matching rule."""
    return next(
        rule.name
        for rule in SEGMENT_RULES
        if rule.r_min <= r <= rule.r_max and rule.fm_min <= fm <= rule.fm_max
    )


def clv_distribution(*, session: Session, bins: int = 20) -> dict:
    """Histogram of predicted 12-month CLV; the last bin gathers the top 1%."""
    n, cap = clv_cap(session)
    if not n:
        return {"customers": 0, "bins": []}
    width = max(-(-cap // (bins - 1)), 1)
    counts = clv_bins(session, width=width, bins=bins)
    rows = [
        {
            "from_cents": i * width,
            "to_cents": None if i == bins - 1 else (i + 1) * width,
            "customers": counts.get(i, 0),
        }
        for i in range(bins)
    ]
    return {"customers": n, "bins": rows}


def clv_deciles(*, session: Session) -> list[dict]:
    """Customers and predicted CLV per decile of CLV percentile, top decile first."""
    rows = clv_decile_rows(session)
    out = []
    for index in range(9, -1, -1):
        customers, total = rows.get(index, (0, 0))
        out.append(
            {
                "decile": index + 1,
                "from_percentile": 10 * index,
                "customers": customers,
                "total_cents": total,
                "average_cents": round(total / customers) if customers else None,
            }
        )
    return out


def churn_risk_list(*, session: Session, limit: int = 50) -> list[dict]:
    """Customers most worth winning back: churn risk times what they spent, highest first."""
    return churn_risk_rows(session, limit=limit)


def latest_run(*, session: Session) -> ScoreRun | None:
    """The most recent score refresh, if any."""
    return session.scalar(
        select(ScoreRun).order_by(ScoreRun.computed_at.desc(), ScoreRun.id.desc()).limit(1)
    )


# Every stored score column but the key.
_SCORE_FIELDS = SCORE_COLUMNS[1:]


def customer_insights(*, session: Session, customer_id: int) -> dict:
    """A customer's stored scores, stage history and predictions (NotFound if no customer)."""
    customers_service.get_customer(session=session, customer_id=customer_id)
    score = session.get(CustomerScore, customer_id)
    history = session.scalars(
        select(LifecycleChange)
        .where(LifecycleChange.customer_id == customer_id)
        .order_by(LifecycleChange.changed_at.desc(), LifecycleChange.id.desc())
        .limit(50)
    )
    data = {name: getattr(score, name) if score else None for name in _SCORE_FIELDS}
    data["customer_id"] = customer_id
    data["computed_at"] = score.computed_at.isoformat() if score else None
    data["stage_history"] = [
        {"from": c.from_stage, "to": c.to_stage, "at": c.changed_at.isoformat()} for c in history
    ]
    return data


def refresh_job(
    *,
    now: datetime,
    payload: dict,
    session: Session | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> dict:
    """Worker entry point: refresh in transactions of its own (chunked), never in `session`.

    The worker hands over its job transaction's session; only its engine is used, so the
    refresh's chunks commit on their own (a refresh is idempotent: a retried job redoes it).
    """
    model = (payload or {}).get("model", DEFAULT_MODEL)
    if sessions is None:
        if session is None:
            raise ValueError("refresh_job needs a session or a session factory")
        sessions = make_sessionmaker(session.get_bind())
    return refresh(sessions=sessions, now=now, model=model).as_dict()


def overview_report(*, session: Session, start: date, end: date) -> dict:
    """The overview page's figures: the KPI report of [start, end] (the same vocabulary as
    /analytics), each period's count of customer profiles, and the daily net revenue."""
    from sqlalchemy import func

    from patron.analytics.queries import counted, net_cents
    from patron.customers.read import Customer, Order
    from patron.customers.stats import utc_day

    report = kpi_report(session=session, start=start, end=end)
    for period in (report["period"], report["previous_period"]):
        until = _midnight(date.fromisoformat(period["end"]) + timedelta(days=1))
        period["customers_total"] = session.scalar(
            select(func.count()).select_from(Customer).where(Customer.created_at < until)
        )
    day = utc_day(Order.placed_at)
    rows = session.execute(
        select(day, func.sum(net_cents()))
        .where(counted(), Order.placed_at >= _midnight(start))
        .where(Order.placed_at < _midnight(end + timedelta(days=1)))
        .group_by(day)
    )
    # SQLite answers with ISO text, PostgreSQL with a date.
    by_day = {d if isinstance(d, date) else date.fromisoformat(d): int(c) for d, c in rows}
    days = (end - start).days + 1
    report["daily_revenue"] = [
        (start + timedelta(days=k), by_day.get(start + timedelta(days=k), 0)) for k in range(days)
    ]
    report["kpis"] = {row["name"]: row for row in report["kpis"]}
    return report
