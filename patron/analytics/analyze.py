"""`patron analyze`: customer intelligence from a transactions file, without a database.

Input: one row per order with a customer id, a date (or timestamp) and an amount. Plain CSV with
a header (column names configurable) or the CDNOW research format (whitespace separated:
``id [sample-id] YYYYMMDD cds dollars``). Times are UTC; several orders of one customer on one day
are one transaction for the models, separate orders for the KPIs.

Handling of awkward values, documented:

* zero amounts are purchases: they count as orders and transactions and lower the mean spend;
  the Gamma-Gamma spend model is fitted only on customers whose mean repeat spend is positive;
* negative amounts (refunds), unparseable dates or amounts, dates after today, unknown columns and
  files without any order are refused with a one-line error naming the first offending line.

Amounts are money in currency units and are rounded to cents (1/100), as the database stores
them. The observation ends with the last day of the data (00:00 UTC of the day after it).

Output: KPIs of the last ``period_days`` before the end of the data beside the period before,
RFM segment sizes, lifecycle stages, the purchase model fit with standard errors and
log-likelihood, Gamma-Gamma spend, and per-customer scores and predictions. Scores come from the
pipeline `patron refresh` uses (``patron.analytics.scoring``, modified BG/NBD by default), so
the same orders give the same scores either way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

from patron.analytics import AnalyticsInputError, scoring
from patron.analytics.clv import PERIODS_PER_MONTH
from patron.analytics.clv.predict import holdout_comparison
from patron.analytics.kpis import KPI_HELP, kpi_rows, period_kpis
from patron.analytics.predictions import fit_summary
from patron.analytics.rfm import SEGMENTS
from patron.analytics.scoring import (
    DEFAULT_MODEL,
    BuyerAggregates,
    Scores,
    ScoringOptions,
    check_model,
    score,
)
from patron.analytics.summary import summary_from_aggregates, unit_days
from patron.analytics.transactions import CsvSpec, CustomerTotals, Progress, read_customer_totals

STEPS = ("read", "kpis", *scoring.STEPS)
SCORE_COLUMNS = (
    "customer",
    "orders",
    "frequency",
    "recency",
    "T",
    "monetary",
    "total",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "segment",
    "stage",
    "p_alive",
    "churn_risk",
    "expected_purchases_90d",
    "expected_spend",
    "clv",
    "clv_percentile",
)


@dataclass
class Analysis:
    """Everything `patron analyze` reports and writes."""

    source: str
    customers: int
    transactions: int
    first_date: str
    end_date: str
    unit: str
    kpis: dict = field(default_factory=dict)
    segments: list[dict] = field(default_factory=list)
    stages: dict[str, int] = field(default_factory=dict)
    cycle_days: float | None = None
    model: str = DEFAULT_MODEL
    fit: dict | None = None
    spend_fit: dict | None = None
    fit_note: str | None = None
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    dropped: int = 0
    holdout: dict | None = None


def window_counts(totals: CustomerTotals, edges: list[int]) -> list[dict[str, int]]:
    """Per-window counts like the service's SQL, over the recent (customer, day) pairs."""
    codes, days, first = totals.recent_code, totals.recent_day, totals.buyers.first_day
    k, n = len(edges) - 1, first.size
    keep = (days >= edges[0]) & (days < edges[-1])
    bucket = np.searchsorted(edges, days[keep], side="right") - 1
    cell = codes[keep] * k + bucket
    per = np.bincount(cell, weights=totals.recent_orders[keep], minlength=n * k).reshape(n, k)
    out = []
    for w in range(k):
        active = per[:, w] > 0
        retained = active & (per[:, w - 1] > 0) if w else np.zeros(n, bool)
        orders, cents = totals.window_orders(edges[w], edges[w + 1])
        out.append(
            {
                "active": int(active.sum()),
                "orders": orders,
                "revenue_cents": cents,
                "repeat": int((per[:, w] >= 2).sum()),
                "retained": int(retained.sum()),
                "first_time": int(((first >= edges[w]) & (first < edges[w + 1])).sum()),
            }
        )
    return out


def _day(value: date | None) -> int | None:
    """Epoch day number of a date."""
    return None if value is None else int(np.datetime64(value, "D").astype(np.int64))


def analyze(
    path: Path,
    spec: CsvSpec,
    *,
    now: datetime,
    unit: str = "weeks",
    model: str = DEFAULT_MODEL,
    period_days: int = 90,
    months: int = 12,
    discount_rate: float = 0.01,
    observation_end: date | None = None,
    calibration_end: date | None = None,
    progress: Callable[[str], None] | None = None,
    read_progress: Progress | None = None,
) -> Analysis:
    """Read a transactions file and compute KPIs, RFM, stages, model fit and scores."""
    step = progress or (lambda _name: None)
    check_model(model)
    if unit not in PERIODS_PER_MONTH or period_days < 1:
        raise AnalyticsInputError("unit must be days, weeks or months; period_days >= 1")
    obs_day, cal_day = _day(observation_end), _day(calibration_end)
    if obs_day is not None and cal_day is not None and cal_day >= obs_day:
        raise AnalyticsInputError("calibration end must be before the observation end")
    step("read")
    totals = read_customer_totals(
        path,
        spec,
        now=now,
        observation_end=obs_day,
        calibration_end=cal_day,
        recent_days=3 * period_days,
        progress=read_progress,
    )
    end = totals.last_day if obs_day is None else obs_day
    buyers = totals.buyers
    result = Analysis(
        source=str(path),
        customers=len(totals.customers),
        transactions=totals.rows,
        first_date=str(np.datetime64(totals.first_day, "D")),
        end_date=str(np.datetime64(end, "D")),
        unit=unit,
        model=model,
        dropped=totals.dropped,
    )
    step("kpis")
    edges = [end + 1 - period_days * i for i in (3, 2, 1, 0)]
    w0, w1, w2 = window_counts(totals, edges)
    result.kpis = {
        "period_days": period_days,
        "rows": kpi_rows(period_kpis(w1, w2), period_kpis(w0, w1)),
        "counts": [w1, w2],
    }
    options = ScoringOptions(model, unit, months, discount_rate)
    customers, kept = totals.customers, totals if cal_day is not None else None
    del totals  # the KPI pairs (tens of bytes a row of the last windows) are not needed now
    scores = score(buyers, now_days=float(end + 1), options=options, step=step)
    _fill(result, customers, buyers, scores)
    if kept is not None:
        result.holdout = holdout(kept, cal_day, end, model=model, unit=unit)
    return result


def holdout(totals: CustomerTotals, cal_day: int, end: int, *, model: str, unit: str) -> dict:
    """Fit on the orders up to cal_day, predict repeat transactions in (cal_day, end], compare."""
    buyers = np.flatnonzero(totals.calibration.order_count > 0)
    if not buyers.size or cal_day >= end:
        raise AnalyticsInputError("the calibration end must fall inside the data, before its end")
    cal = _subset(totals.calibration, buyers)
    summary = summary_from_aggregates(
        cal.first_day,
        cal.last_day,
        cal.purchase_days,
        cal.total_cents / 100.0,
        observation_end=float(cal_day),
        unit=unit,
    )
    actual = totals.buyers.purchase_days[buyers] - cal.purchase_days
    length = (end - cal_day) / unit_days(unit)
    out = {
        "calibration_end": str(np.datetime64(cal_day, "D")),
        "holdout_days": end - cal_day,
        "customers": int(buyers.size),
        "calibration_repeat": int(summary.frequency.sum()),
        "holdout_actual": int(actual.sum()),
        "model": model,
    }
    x, tx, T = summary.frequency, summary.recency, summary.T
    sample = scoring.fit_sample(x.size)
    try:
        fitted = scoring.MODELS[model](x[sample], tx[sample], T[sample])
    except AnalyticsInputError as exc:
        return {**out, "note": f"{model} could not be fitted on the calibration period: {exc}"}
    predicted = fitted.expected_purchases(length, x, tx, T)
    compared = holdout_comparison(predicted, actual, x)
    out.update(
        fit=fit_summary(fitted),
        holdout_predicted=round(compared.total_predicted, 1),
        mae=compared.mae,
        correlation=compared.correlation,
        bins=[
            {
                "frequency": int(f),
                "customers": int(c),
                "actual": float(a),
                "predicted": float(p),
            }
            for f, c, a, p in zip(
                compared.frequency_bins,
                compared.customers,
                compared.mean_actual,
                compared.mean_predicted,
                strict=True,
            )
        ],
    )
    return out


def _subset(agg: BuyerAggregates, rows: np.ndarray) -> BuyerAggregates:
    """The aggregates of some customers."""
    return BuyerAggregates(
        order_count=agg.order_count[rows],
        first_day=agg.first_day[rows],
        last_day=agg.last_day[rows],
        purchase_days=agg.purchase_days[rows],
        total_cents=agg.total_cents[rows],
        first_day_cents=agg.first_day_cents[rows],
    )


def _text(labels: np.ndarray) -> pa.Array:
    """Labels (str or None) as an arrow string array, converted once for counts and the CSV."""
    return pa.array(labels, pa.string(), from_pandas=True)


def _counts(labels: pa.Array) -> dict[str, int]:
    """How many times each label occurs (None counts as "None", as str() names it)."""
    counts = labels.fill_null("None").value_counts()
    return {v["values"].as_py(): v["counts"].as_py() for v in counts}


def _fill(result: Analysis, customers, buyers: BuyerAggregates, scores: Scores) -> None:
    """Segment sizes, stage counts, fit summaries and per-customer columns of the scores."""
    segment, stage = _text(scores.segment), _text(scores.stage)
    sizes = _counts(segment)
    result.segments = [{"name": s, "customers": int(sizes.get(s, 0))} for s in SEGMENTS]
    result.stages = dict(sorted(_counts(stage).items()))
    result.cycle_days = scores.cycle_days
    result.fit, result.spend_fit, result.fit_note = scores.fit, scores.spend_fit, scores.fit_note
    summary = scores.summary
    result.scores = {
        "customer": customers,
        "orders": buyers.order_count,
        "total": buyers.total_cents / 100.0,
        "frequency": summary.frequency,
        "recency": summary.recency,
        "T": summary.T,
        "monetary": summary.monetary,
        "recency_score": scores.r,
        "frequency_score": scores.f,
        "monetary_score": scores.m,
        "segment": segment,
        "stage": stage,
    }
    if scores.fit:
        result.scores.update(
            p_alive=scores.p_alive,
            churn_risk=scores.churn_risk,
            expected_purchases_90d=scores.expected_90d,
        )
    if scores.spend_fit:
        result.scores.update(
            expected_spend=scores.spend_cents / 100.0,
            clv=scores.clv_cents / 100.0,
            clv_percentile=scores.percentile,
        )


WRITE_ROWS = 500_000
WRITE_THREADS = 2
# Decimals of the rounded float columns; probabilities and expectations keep full precision.
_DECIMALS = {"recency": 4, "T": 4, "monetary": 2, "total": 2, "expected_spend": 2, "clv": 2}


def write_scores(result: Analysis, path: Path) -> int:
    """Write one CSV row per customer with scores and predictions; return the row count."""
    n = result.customers
    schema = None
    pending: deque[Future] = deque()
    # Slices of WRITE_ROWS customers keep the arrow copies small on millions of customers; two
    # threads format slices at once (pyarrow's writer releases the GIL), written in order.
    with open(path, "wb") as fh, ThreadPoolExecutor(WRITE_THREADS) as pool:
        for lo in range(0, max(n, 1), WRITE_ROWS):
            hi = min(lo + WRITE_ROWS, n)
            columns = {
                name: _arrow(name, result.scores.get(name), lo, hi) for name in SCORE_COLUMNS
            }
            table = pa.table(columns) if schema is None else pa.table(columns, schema=schema)
            schema = table.schema
            pending.append(pool.submit(_csv_bytes, table, lo == 0))
            while len(pending) >= WRITE_THREADS:
                fh.write(pending.popleft().result())
        while pending:
            fh.write(pending.popleft().result())
    return n


def _csv_bytes(table: pa.Table, header: bool) -> pa.Buffer:
    """A slice of the scores as CSV bytes (the header only on the first)."""
    sink = pa.BufferOutputStream()
    options = pv.WriteOptions(include_header=header, quoting_style="needed")
    pv.write_csv(table, sink, write_options=options)
    return sink.getvalue()


def _arrow(name: str, column, lo: int, hi: int) -> pa.Array:
    """Rows lo..hi of a score column as an arrow array: floats rounded, NaN and None empty."""
    if column is None:
        return pa.nulls(hi - lo, pa.string())
    if isinstance(column, pa.Array):
        return column.slice(lo, hi - lo)
    arr = np.asarray(column)[lo:hi]
    if arr.dtype.kind == "f":
        rounded = np.round(arr, _DECIMALS[name]) if name in _DECIMALS else arr
        return pa.array(rounded, mask=~np.isfinite(rounded))
    if arr.dtype == object:
        return pa.array(arr, pa.string(), from_pandas=True)
    return pa.array(arr)


__all__ = ["KPI_HELP", "Analysis", "CsvSpec", "analyze", "holdout", "write_scores"]
