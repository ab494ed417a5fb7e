"""The refresh use case: recompute every customer's scores from the stored aggregates.

Steps (each timed in the report): load the per-customer aggregates of customer_stats in one
query into NumPy; score the buyers with the pipeline shared with `patron analyze`
(``patron.analytics.scoring``: RFM, lifecycle stages, the purchase and spend models, P(alive),
churn risk, expected purchases in 90 days, expected spend and 12-month CLV with its percentile;
time unit weeks); write everything set-based (``store.write_scores``) in chunks of WRITE_CHUNK
customers, one transaction each, recording stage changes; record the run; announce the refresh
so that segments recompute memberships in a transaction of their own.

Locking: the aggregates are loaded in one short read-only transaction and NumPy computes with no
transaction open, so SQLite's write lock is held one chunk at a time (readers never wait in WAL
mode, writers at most one chunk). A reader may see some customers' new scores beside others' old
ones while the chunks are written, and a failed refresh leaves the chunks written so far (the next
refresh rewrites every row). One refresh runs at a time (``patron.analytics.lease``).

Choices, documented (the scoring ones in ``patron.analytics.scoring``):

* Customers without a counted order ("prospects") get no RFM scores, no model fields and stage
  NULL; no stage change is recorded for them. When they first buy, the change from NULL is.
* Ambassadors: ``is_advocate`` asks the providers of the ``analytics.advocates`` extension
  point (advocates contributes one: an advocacy score over a threshold) who is an advocate,
  inside the load's read-only transaction; with no provider it is False for everyone.
* When a model cannot be fitted (fewer than 2 repeat buyers, degenerate data), RFM and stages are
  still written, model fields stay NULL, and the report says why.
* Orders stamped after ``now`` (clock skew) are treated as placed at ``now``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import islice

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from patron.analytics import AnalyticsInputError
from patron.analytics.events import ScoresRefreshed
from patron.analytics.lease import refresh_lease
from patron.analytics.lifecycle import LifecycleThresholds
from patron.analytics.queries import Aggregates, load_aggregates
from patron.analytics.scoring import (
    DEFAULT_MODEL,
    MODELS,
    UNIT,
    BuyerAggregates,
    Scores,
    ScoringOptions,
    check_model,
    purchase_cycle_days,
    score,
)
from patron.analytics.store import write_scores
from patron.analytics.summary import instant_days
from patron.analytics.tables import ScoreRun
from patron.db import read_transaction, transaction
from patron.events.service import append
from patron.manifest import contributions

# DEFAULT_MODEL, MODELS and purchase_cycle_days are re-exported for existing callers.
__all__ = ["DEFAULT_MODEL", "MODELS", "STEPS", "RefreshReport", "purchase_cycle_days", "refresh"]

STEPS = ("load", "rfm", "lifecycle", "fit", "predict", "write", "segments")
# Customers written per transaction: a writer waits at most one chunk (tens of ms) for the lock.
WRITE_CHUNK = 5_000
# The extension point analytics owns: who is an advocate (ambassador stage).
ADVOCATES_POINT = "analytics.advocates"
Progress = Callable[[str], None]


@dataclass
class RefreshReport:
    """What a refresh did: counts, purchase cycle, model fit (or why not), step timings."""

    computed_at: datetime
    customers: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    stage_changes: int = 0
    cycle_days: float | None = None
    model: str | None = None
    fit: dict = field(default_factory=dict)
    fit_note: str | None = None
    segments: str = "not installed"
    steps: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        data = asdict(self)
        data["computed_at"] = self.computed_at.isoformat()
        return data


def is_advocate(session: Session, customer_ids: np.ndarray) -> np.ndarray:
    """Who is an advocate: any `analytics.advocates` provider says so (nobody without one).

    A provider is `(session=, customer_ids: np.ndarray) -> np.ndarray[bool]`, one flag per id.
    """
    flags = np.zeros(customer_ids.size, dtype=bool)
    for provider in contributions(ADVOCATES_POINT):
        found = np.asarray(provider(session=session, customer_ids=customer_ids), dtype=bool)
        if found.shape != flags.shape:
            raise AnalyticsInputError("an advocates provider must give one flag per customer")
        flags |= found
    return flags


class _Timer:
    """Times named steps and reports each start to an optional progress callback."""

    def __init__(self, report: RefreshReport, progress: Progress | None):
        self.report, self.progress = report, progress
        self.name, self.started = None, 0.0

    def step(self, name: str) -> None:
        """Close the running step and start the next."""
        self.stop()
        if self.progress:
            self.progress(name)
        self.name, self.started = name, time.perf_counter()

    def stop(self) -> None:
        """Record the running step's duration."""
        if self.name:
            self.report.steps[self.name] = round(time.perf_counter() - self.started, 3)
            self.name = None


def refresh(
    *,
    sessions: sessionmaker[Session],
    now: datetime,
    progress: Progress | None = None,
    model: str = DEFAULT_MODEL,
    months: int = 12,
    discount_rate: float = 0.01,
    thresholds: LifecycleThresholds = LifecycleThresholds(),
    chunk_size: int = WRITE_CHUNK,
) -> RefreshReport:
    """Recompute and store every customer's scores, stage and predictions as of now.

    Loads in one short read-only transaction, computes with no transaction open, writes in
    transactions of chunk_size customers, records the run, then lets segments recompute.
    Raises RefreshRunning when another refresh holds the lease.
    """
    check_model(model)
    if chunk_size < 1:
        raise AnalyticsInputError("chunk_size must be at least 1")
    with refresh_lease(sessions):
        started = time.perf_counter()
        report = RefreshReport(computed_at=now)
        timer = _Timer(report, progress)
        timer.step("load")
        with read_transaction(sessions) as session:
            agg = load_aggregates(session)
            index = np.flatnonzero((agg.order_count > 0) & np.isfinite(agg.first_day))
            advocates = is_advocate(session, agg.customer_id[index])
        report.customers, report.buyers = len(agg), int(index.size)
        options = ScoringOptions(model, UNIT, months, discount_rate, thresholds)
        # Nothing is open while NumPy computes: advocates were read with the aggregates.
        scores = _score_buyers(advocates, agg, index, now, timer, report, options)
        timer.step("write")
        rows = _rows(agg, index, scores)
        report.stage_changes = _write_in_chunks(sessions, rows, now=now, size=chunk_size)
        timer.stop()
        report.seconds = round(time.perf_counter() - started, 3)
        report.segments = scores_refreshed(sessions=sessions, report=report, now=now)
    return report


def _write_in_chunks(sessions: sessionmaker[Session], rows, *, now: datetime, size: int) -> int:
    """Write score rows size customers per transaction; return the number of stage changes."""
    changes = 0
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        with transaction(sessions) as session:
            changes += write_scores(session, chunk, now=now)
    return changes


def scores_refreshed(
    *, sessions: sessionmaker[Session], report: RefreshReport, now: datetime
) -> str:
    """Store the run and announce it: consumers (segments) react outside this transaction."""
    announcement = ScoresRefreshed(
        customer_id=None,
        computed_at=now.isoformat(),
        customers=report.customers,
        buyers=report.buyers,
        stage_changes=report.stage_changes,
        model=report.model,
    )
    with transaction(sessions) as session:
        _record_run(session, report)
        append(session, [announcement], now=now)
    return "announced"


def _score_buyers(
    advocates: np.ndarray, agg: Aggregates, index, now: datetime, timer, report, options
) -> Scores:
    """Score the customers who bought with the shared pipeline; fill the report's fit fields."""
    buyers = BuyerAggregates(
        order_count=agg.order_count[index],
        first_day=agg.first_day[index],
        last_day=agg.last_day[index],
        purchase_days=agg.purchase_days[index],
        total_cents=agg.total_cents[index],
        first_day_cents=agg.first_day_cents[index],
        is_advocate=advocates,
    )
    scores = score(buyers, now_days=instant_days(now), options=options, step=timer.step)
    report.repeat_buyers, report.cycle_days = scores.repeat_buyers, scores.cycle_days
    report.model, report.fit_note = scores.model, scores.fit_note
    if scores.fit:
        report.fit = _fit_json(scores.fit) | {"unit": options.unit}
    if scores.spend_fit:
        report.fit["spend"] = _fit_json(scores.spend_fit)
    return scores


def _fit_json(fit: dict) -> dict:
    """A model fit summary with undefined standard errors as None."""
    return fit | {"std_errors": _finite(fit["std_errors"])}


def _finite(values: dict[str, float]) -> dict[str, float | None]:
    """Replace non-finite numbers (undefined standard errors) by None for JSON."""
    return {k: (float(v) if np.isfinite(v) else None) for k, v in values.items()}


def _column(size: int, buyers: np.ndarray, values: np.ndarray, *, integer: bool = False) -> list:
    """A full-length column with None for non-buyers and unknown (NaN / -1) values."""
    out = np.full(size, None, dtype=object)
    vals = np.asarray(values)
    if vals.dtype == object:
        out[buyers] = vals
        return out.tolist()
    known = (vals >= 0) if integer else np.isfinite(vals)
    cast = vals.astype(np.int64) if integer else vals.astype(float)
    out[buyers[known]] = cast[known].tolist()
    return out.tolist()


def _rows(agg: Aggregates, buyers: np.ndarray, s: Scores):
    """Score rows of every customer in store.SCORE_COLUMNS order."""
    n = len(agg)
    columns = [
        agg.customer_id.tolist(),
        _column(n, buyers, s.r, integer=True),
        _column(n, buyers, s.f, integer=True),
        _column(n, buyers, s.m, integer=True),
        _column(n, buyers, s.segment),
        _column(n, buyers, s.stage),
        _column(n, buyers, s.p_alive),
        _column(n, buyers, s.churn_risk),
        _column(n, buyers, s.expected_90d),
        _column(n, buyers, np.where(np.isfinite(s.spend_cents), s.spend_cents, -1), integer=True),
        _column(n, buyers, np.where(np.isfinite(s.clv_cents), s.clv_cents, -1), integer=True),
        _column(n, buyers, s.percentile),
    ]
    return zip(*columns, strict=True)


def _record_run(session: Session, report: RefreshReport) -> None:
    """Store a summary of this refresh for the dashboard and the API."""
    session.add(
        ScoreRun(
            computed_at=report.computed_at,
            customers=report.customers,
            buyers=report.buyers,
            stage_changes=report.stage_changes,
            cycle_days=report.cycle_days,
            model=report.model,
            model_fit=report.fit,
            fit_note=report.fit_note,
            seconds=report.seconds,
        )
    )
    session.flush()
