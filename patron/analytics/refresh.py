"""The refresh use case: recompute every customer's scores from the stored aggregates.

Steps (each timed in the report): load the per-customer aggregates of customer_stats in one
query into NumPy; RFM scores and segment names; lifecycle stages relative to the shop's purchase
cycle; fit BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader, Hardie & Lee 2005b) on the
aggregates, time unit weeks; predict P(alive), churn risk (1 - P(alive)), expected purchases in 90
days, expected spend per purchase and the 12-month CLV (monthly discount rate 1%) with its
percentile; write everything set-based (``store.write_scores``) in chunks of WRITE_CHUNK customers,
one transaction each, recording stage changes; record the run; let the segments capability
recompute memberships in a transaction of its own.

Locking: the aggregates are loaded in one short read-only transaction and NumPy computes with no
transaction open, so SQLite's write lock is held one chunk at a time (readers never wait in WAL
mode, writers at most one chunk). A reader may see some customers' new scores beside others' old
ones while the chunks are written, and a failed refresh leaves the chunks written so far (the next
refresh rewrites every row). One refresh runs at a time (``patron.analytics.lease``).

Choices, documented:

* Purchase cycle: the median over repeat buyers of their mean gap between purchase days,
  ``(last_order_at - first_order_at) / (purchase_days - 1)``, at least one day; 30 days when
  nobody has bought twice. Stages and their thresholds: ``patron.analytics.lifecycle``.
* Model: BG/NBD by default (fast to fit, and its P(alive) is well behaved); ``model="paretonbd"``
  or ``"mbgnbd"`` may be chosen instead. Parameters are estimated on every buyer up to
  FIT_SAMPLE (250,000), beyond that on a fixed-seed random sample of that size; predictions are
  made for every buyer.
* Customers without a counted order ("prospects") get no RFM scores, no model fields and stage
  NULL; no stage change is recorded for them. When they first buy, the change from NULL is.
* Ambassadors: ``is_advocate`` says who refers others or is a promoter; until referrals and
  surveys exist it is False for everyone.
* When a model cannot be fitted (fewer than 2 repeat buyers, degenerate data), RFM and stages are
  still written, model fields stay NULL, and the report says why.
* Orders stamped after ``now`` (clock skew) are treated as placed at ``now``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import islice

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from patron.analytics import AnalyticsInputError, summary_from_aggregates
from patron.analytics.clv import fit_bgnbd, fit_gamma_gamma, fit_mbgnbd, fit_paretonbd
from patron.analytics.lease import refresh_lease
from patron.analytics.lifecycle import LifecycleThresholds, lifecycle_stages
from patron.analytics.predictions import fit_summary, percentile_rank, predict
from patron.analytics.queries import Aggregates, load_aggregates
from patron.analytics.rfm import rfm_scores
from patron.analytics.store import write_scores
from patron.analytics.summary import instant_days
from patron.analytics.tables import ScoreRun
from patron.db import read_transaction, transaction

STEPS = ("load", "rfm", "lifecycle", "fit", "predict", "write", "segments")
MODELS = {"bgnbd": fit_bgnbd, "paretonbd": fit_paretonbd, "mbgnbd": fit_mbgnbd}
# Modified BG/NBD by default: under BG/NBD a customer who never bought again is alive with
# probability 1 however long ago they bought, which reads as "no churn risk" for lapsed buyers.
DEFAULT_MODEL = "mbgnbd"
DEFAULT_CYCLE_DAYS = 30.0
UNIT = "weeks"
# Parameters are estimated on at most this many customers (a fixed-seed random sample): on a
# million customers that makes fitting ~4x faster with estimates well inside their errors.
FIT_SAMPLE = 250_000
# The fitters optimise log-parameters within +-12; an estimate this close to it is not identified.
_BOUND_LOG = 11.5
# Customers written per transaction: a writer waits at most one chunk (tens of ms) for the lock.
WRITE_CHUNK = 5_000
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


@dataclass
class Scores:
    """Per-buyer computed values (NaN / -1 where unknown), aligned with the buyer index."""

    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment: np.ndarray
    stage: np.ndarray
    p_alive: np.ndarray
    expected_90d: np.ndarray
    spend_cents: np.ndarray
    clv_cents: np.ndarray
    percentile: np.ndarray


@dataclass(frozen=True)
class _Options:
    """How to score: the purchase model, the CLV horizon and discount, the stage thresholds."""

    model: str
    months: int
    discount_rate: float
    thresholds: LifecycleThresholds


@dataclass(frozen=True)
class _Buyers:
    """The customers with a counted order: their index in the aggregates and purchase days."""

    index: np.ndarray
    first: np.ndarray
    last: np.ndarray
    days: np.ndarray


def is_advocate(session: Session, customer_ids: np.ndarray) -> np.ndarray:
    """Ambassador hook: who refers others or is a promoter (False for all until that exists)."""
    return np.zeros(customer_ids.size, dtype=bool)


def purchase_cycle_days(first: np.ndarray, last: np.ndarray, purchase_days: np.ndarray) -> float:
    """Median over repeat buyers of (last - first) / (purchase_days - 1), at least one day."""
    repeat = purchase_days >= 2
    if not repeat.any():
        return DEFAULT_CYCLE_DAYS
    gaps = (last[repeat] - first[repeat]) / (purchase_days[repeat] - 1)
    return max(float(np.median(gaps)), 1.0)


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
    if model not in MODELS:
        raise AnalyticsInputError(f"model must be one of {', '.join(MODELS)}")
    if chunk_size < 1:
        raise AnalyticsInputError("chunk_size must be at least 1")
    with refresh_lease(sessions):
        started = time.perf_counter()
        report = RefreshReport(computed_at=now)
        timer = _Timer(report, progress)
        timer.step("load")
        with read_transaction(sessions) as session:
            agg = load_aggregates(session)
        now_days = instant_days(now)
        index = np.flatnonzero((agg.order_count > 0) & np.isfinite(agg.first_day))
        buyers = _Buyers(
            index,
            np.minimum(agg.first_day[index], now_days),
            np.minimum(agg.last_day[index], now_days),
            np.maximum(agg.purchase_days[index], 1),
        )
        report.customers, report.buyers = len(agg), int(index.size)
        report.repeat_buyers = int((buyers.days >= 2).sum())
        options = _Options(model, months, discount_rate, thresholds)
        # No session: nothing is open while NumPy computes (is_advocate reads nothing yet).
        scores = _score_buyers(None, agg, buyers, now_days, timer, report, options)
        timer.step("write")
        rows = _rows(agg, buyers.index, scores)
        report.stage_changes = _write_in_chunks(sessions, rows, now=now, size=chunk_size)
        timer.stop()
        report.seconds = round(time.perf_counter() - started, 3)
        with transaction(sessions) as session:
            _record_run(session, report)
        timer.step("segments")
        report.segments = scores_refreshed(sessions=sessions, now=now)
        timer.stop()
    return report


def _write_in_chunks(sessions: sessionmaker[Session], rows, *, now: datetime, size: int) -> int:
    """Write score rows size customers per transaction; return the number of stage changes."""
    changes = 0
    rows = iter(rows)
    while chunk := list(islice(rows, size)):
        with transaction(sessions) as session:
            changes += write_scores(session, chunk, now=now)
    return changes


def scores_refreshed(*, sessions: sessionmaker[Session], now: datetime) -> str:
    """After the scores are written: recompute segment memberships in their own transaction."""
    # EVENT: scores.refreshed (carries computed_at=now); the segments recompute becomes a job
    # started by that event instead of this direct call.
    with transaction(sessions) as session:
        return _recompute_segments(session, now)


def _score_buyers(
    session, agg: Aggregates, buyers: _Buyers, now_days, timer, report, options: _Options
) -> Scores:
    """RFM, stages and model predictions of the customers who bought."""
    n, index = buyers.index.size, buyers.index
    first, last, days = buyers.first, buyers.last, buyers.days
    blank = np.full(n, np.nan)
    scores = Scores(
        *(np.full(n, -1, np.int8) for _ in range(3)),
        np.full(n, None, object),
        np.full(n, None, object),
        blank,
        blank.copy(),
        blank.copy(),
        blank.copy(),
        blank.copy(),
    )
    timer.step("rfm")
    if n:
        rfm = rfm_scores(now_days - last, agg.order_count[index], agg.total_cents[index])
        scores.r, scores.f, scores.m, scores.segment = rfm.r, rfm.f, rfm.m, rfm.segment
    timer.step("lifecycle")
    if n:
        report.cycle_days = round(purchase_cycle_days(first, last, days), 3)
        scores.stage = lifecycle_stages(
            agg.order_count[index],
            first,
            last,
            now=now_days,
            cycle=report.cycle_days,
            is_advocate=is_advocate(session, agg.customer_id[index]),
            thresholds=options.thresholds,
        )
    timer.step("fit")
    if report.repeat_buyers < 2:
        report.fit_note = (
            f"{report.repeat_buyers} repeat buyer(s): at least 2 are needed to fit a model"
        )
        return scores
    summary = summary_from_aggregates(
        first,
        last,
        days,
        agg.total_cents[index] / 100.0,
        observation_end=now_days,
        unit=UNIT,
        first_order_value=agg.first_day_cents[index] / 100.0,
    )
    _fit_and_predict(summary, scores, timer, report, options)
    return scores


def _fit_and_predict(
    summary, scores: Scores, timer, report: RefreshReport, options: _Options
) -> None:
    """Fit the purchase and spend models and fill the predictions (or note why not)."""
    x, tx, T, money = summary.frequency, summary.recency, summary.T, summary.monetary
    model = options.model
    try:
        sample = fit_sample(x.size)
        fitted = MODELS[model](x[sample], tx[sample], T[sample])
    except AnalyticsInputError as exc:
        report.fit_note = f"{model} could not be fitted: {exc}"
        return
    if _degenerate(fitted.params):
        report.fit_note = (
            f"{model} fit is degenerate (a parameter ran to its bound): "
            "the data do not identify the model; predictions left empty"
        )
        return
    report.model = model
    report.fit = fit_summary(fitted) | {"std_errors": _finite(fitted.std_errors), "unit": UNIT}
    timer.step("predict")
    predicted = predict(
        fitted, x, tx, T, unit=UNIT, months=options.months, discount_rate=options.discount_rate
    )
    scores.p_alive, scores.expected_90d = predicted.p_alive, predicted.expected_90d
    try:
        spend_model = fit_gamma_gamma(x[sample], money[sample])
        spend = spend_model.expected_spend(x, money)
    except AnalyticsInputError as exc:
        report.fit_note = f"spend model could not be fitted: {exc}"
        return
    if _degenerate(spend_model.params):
        report.fit_note = "spend model fit is degenerate (a parameter ran to its bound)"
        return
    report.fit["spend"] = fit_summary(spend_model) | {"std_errors": _finite(spend_model.std_errors)}
    scores.spend_cents = np.round(spend * 100.0)
    scores.clv_cents = np.round(spend * predicted.purchases * 100.0)
    scores.percentile = np.round(percentile_rank(scores.clv_cents), 2)


def fit_sample(n: int) -> np.ndarray:
    """Indices of the customers the models are fitted on: all, or a seeded sample of FIT_SAMPLE."""
    if n <= FIT_SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, FIT_SAMPLE, replace=False))


def _degenerate(params: dict[str, float]) -> bool:
    """Whether a fitted parameter sits at the optimiser's bound (exp(+-12)) or is not finite."""
    logs = np.log(np.asarray(list(params.values()), dtype=float))
    return bool((~np.isfinite(logs)).any() or (np.abs(logs) > _BOUND_LOG).any())


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
    churn = 1.0 - s.p_alive
    columns = [
        agg.customer_id.tolist(),
        _column(n, buyers, s.r, integer=True),
        _column(n, buyers, s.f, integer=True),
        _column(n, buyers, s.m, integer=True),
        _column(n, buyers, s.segment),
        _column(n, buyers, s.stage),
        _column(n, buyers, s.p_alive),
        _column(n, buyers, churn),
        _column(n, buyers, s.expected_90d),
        _column(n, buyers, np.where(np.isfinite(s.spend_cents), s.spend_cents, -1), integer=True),
        _column(n, buyers, np.where(np.isfinite(s.clv_cents), s.clv_cents, -1), integer=True),
        _column(n, buyers, s.percentile),
    ]
    return zip(*columns, strict=True)


def _recompute_segments(session: Session, now: datetime) -> str:
    """Let the segments capability recompute memberships, if it is installed."""
    try:
        segments_service = importlib.import_module("patron.segments.service")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("patron.segments"):
            return "not installed"
        raise
    if not hasattr(segments_service, "recompute_all"):
        return "not installed"
    segments_service.recompute_all(session=session, now=now)
    return "recomputed"


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
