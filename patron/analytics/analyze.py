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

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from patron.analytics import AnalyticsInputError, scoring
from patron.analytics.clv import PERIODS_PER_MONTH
from patron.analytics.rfm import SEGMENTS
from patron.analytics.scoring import (
    DEFAULT_MODEL,
    BuyerAggregates,
    Scores,
    ScoringOptions,
    check_model,
    score,
)
from patron.analytics.service import KPI_HELP, kpi_rows, period_kpis

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


@dataclass(frozen=True)
class CsvSpec:
    """How to read the transactions file."""

    format: str = "csv"
    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    delimiter: str = ","
    date_format: str | None = None


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


def _columns(path: Path, spec: CsvSpec) -> tuple[list[str], list[str], list[str], int]:
    """The id, date and amount columns as text, and the line number of the first data row."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        if spec.format == "cdnow":
            rows = [line.split() for line in fh if line.strip()]
            if any(len(r) not in (4, 5) for r in rows):
                raise AnalyticsInputError(f"{path}: CDNOW lines have 4 or 5 fields")
            shift = 1 if rows and len(rows[0]) == 5 else 0
            picks, first_line = (0, 1 + shift, 3 + shift), 1
        else:
            reader = csv.reader(fh, delimiter=spec.delimiter)
            header = next(reader, None)
            if not header:
                raise AnalyticsInputError(f"{path}: the file is empty")
            header = [h.strip() for h in header]
            picks = tuple(
                _column_index(header, name, path)
                for name in (spec.customer, spec.date, spec.amount)
            )
            rows, first_line = [r for r in reader if r], 2
    if not rows:
        raise AnalyticsInputError(f"{path}: no transactions")
    try:
        cols = [[r[i].strip() for r in rows] for i in picks]
    except IndexError:
        raise AnalyticsInputError(f"{path}: some rows have fewer fields than the header")
    return cols[0], cols[1], cols[2], first_line


def _column_index(header: list[str], name: str, path: Path) -> int:
    """The index of a named column, or an error listing the columns there are."""
    if name not in header:
        raise AnalyticsInputError(
            f"{path}: unknown column {name!r}; the file has: {', '.join(header)}"
        )
    return header.index(name)


def _parse_dates(values: list[str], spec: CsvSpec, first_line: int) -> np.ndarray:
    """Parse dates (ISO, CDNOW YYYYMMDD or date_format) to datetime64[s] in UTC."""
    fmt = "%Y%m%d" if spec.format == "cdnow" else spec.date_format
    if fmt is None:
        try:
            return np.array(values, dtype="datetime64[s]")
        except ValueError:
            pass
    out = np.empty(len(values), dtype="datetime64[s]")
    for i, text in enumerate(values):
        try:
            moment = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
        except ValueError:
            raise AnalyticsInputError(f"line {first_line + i}: cannot read date {text!r}")
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        out[i] = np.datetime64(moment, "s")
    return out


def _parse_amounts(values: list[str], first_line: int) -> np.ndarray:
    """Parse amounts; refuse text, NaN, infinities and negative numbers with the line."""
    try:
        amounts = np.array(values, dtype=float)
    except ValueError:
        amounts = None
    bad = (
        np.flatnonzero(~np.isfinite(amounts))
        if amounts is not None
        else [next(i for i, v in enumerate(values) if not _is_number(v))]
    )
    if len(bad):
        i = int(bad[0])
        raise AnalyticsInputError(f"line {first_line + i}: cannot read amount {values[i]!r}")
    negative = np.flatnonzero(amounts < 0)
    if negative.size:
        i = int(negative[0])
        raise AnalyticsInputError(
            f"line {first_line + i}: negative amount {values[i]}; "
            "net refunds out of the orders first"
        )
    return amounts


def _is_number(text: str) -> bool:
    """Whether text parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_transactions(path: Path, spec: CsvSpec, *, now: datetime):
    """Read and check a transactions file: (customer ids, datetime64 times, amounts)."""
    if spec.format not in ("csv", "cdnow"):
        raise AnalyticsInputError("format must be csv or cdnow")
    ids, dates, amounts, first_line = _columns(path, spec)
    times = _parse_dates(dates, spec, first_line)
    future = np.flatnonzero(times > np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "s"))
    if future.size:
        i = int(future[0])
        raise AnalyticsInputError(f"line {first_line + i}: date {dates[i]} is in the future")
    if any(not v for v in ids):
        raise AnalyticsInputError(f"{path}: a row has an empty customer id")
    return np.array(ids), times, _parse_amounts(amounts, first_line)


def window_counts(
    codes: np.ndarray, days: np.ndarray, cents: np.ndarray, edges: list[int]
) -> list[dict[str, int]]:
    """Per-window counts like the service's SQL, over (customer code, day, cents) rows."""
    k, n = len(edges) - 1, int(codes.max()) + 1
    keep = (days >= edges[0]) & (days < edges[-1])
    bucket = np.searchsorted(edges, days[keep], side="right") - 1
    per = np.bincount(codes[keep] * k + bucket, minlength=n * k).reshape(n, k)
    revenue = np.bincount(bucket, weights=cents[keep], minlength=k)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, days)
    out = []
    for w in range(k):
        active = per[:, w] > 0
        retained = active & (per[:, w - 1] > 0) if w else np.zeros(n, bool)
        out.append(
            {
                "active": int(active.sum()),
                "orders": int(per[:, w].sum()),
                "revenue_cents": round(float(revenue[w])),
                "repeat": int((per[:, w] >= 2).sum()),
                "retained": int(retained.sum()),
                "first_time": int(((first >= edges[w]) & (first < edges[w + 1])).sum()),
            }
        )
    return out


def customer_aggregates(codes: np.ndarray, days: np.ndarray, cents: np.ndarray) -> BuyerAggregates:
    """Per-customer aggregates like customer_stats, over (customer code, day, cents) rows."""
    n = int(codes.max()) + 1
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, days)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, codes, days)
    span = int(days.max() - days.min()) + 1
    pairs = np.unique(codes.astype(np.int64) * span + (days - days.min()))
    on_first = days == first[codes]
    return BuyerAggregates(
        order_count=np.bincount(codes, minlength=n),
        first_day=first.astype(float),
        last_day=last.astype(float),
        purchase_days=np.bincount(pairs // span, minlength=n),
        total_cents=np.bincount(codes, weights=cents, minlength=n).round().astype(np.int64),
        first_day_cents=np.bincount(codes[on_first], weights=cents[on_first], minlength=n)
        .round()
        .astype(np.int64),
    )


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
    progress: Callable[[str], None] | None = None,
) -> Analysis:
    """Read a transactions file and compute KPIs, RFM, stages, model fit and scores."""
    step = progress or (lambda _name: None)
    check_model(model)
    if unit not in PERIODS_PER_MONTH or period_days < 1:
        raise AnalyticsInputError("unit must be days, weeks or months; period_days >= 1")
    step("read")
    ids, times, amounts = read_transactions(path, spec, now=now)
    days = times.astype("datetime64[D]").astype(np.int64)
    cents = np.round(amounts * 100.0).astype(np.int64)
    end = int(days.max())
    customers, codes = np.unique(ids, return_inverse=True)
    result = Analysis(
        source=str(path),
        customers=int(customers.size),
        transactions=int(ids.size),
        first_date=str(times.min())[:10],
        end_date=str(times.max())[:10],
        unit=unit,
        model=model,
    )
    step("kpis")
    edges = [end + 1 - period_days * i for i in (3, 2, 1, 0)]
    w0, w1, w2 = window_counts(codes, days, cents.astype(float), edges)
    result.kpis = {
        "period_days": period_days,
        "rows": kpi_rows(period_kpis(w1, w2), period_kpis(w0, w1)),
        "counts": [w1, w2],
    }
    buyers = customer_aggregates(codes, days, cents)
    options = ScoringOptions(model, unit, months, discount_rate)
    scores = score(buyers, now_days=float(end + 1), options=options, step=step)
    _fill(result, customers, buyers, scores)
    return result


def _fill(result: Analysis, customers, buyers: BuyerAggregates, scores: Scores) -> None:
    """Segment sizes, stage counts, fit summaries and per-customer columns of the scores."""
    sizes = dict(zip(*np.unique(scores.segment.astype(str), return_counts=True), strict=True))
    result.segments = [{"name": s, "customers": int(sizes.get(s, 0))} for s in SEGMENTS]
    names, counts = np.unique(scores.stage.astype(str), return_counts=True)
    result.stages = {str(k): int(v) for k, v in zip(names, counts, strict=True)}
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
        "segment": scores.segment,
        "stage": scores.stage,
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


def write_scores(result: Analysis, path: Path) -> int:
    """Write one CSV row per customer with scores and predictions; return the row count."""
    n = result.customers
    columns = [result.scores.get(name, np.full(n, None, dtype=object)) for name in SCORE_COLUMNS]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SCORE_COLUMNS)
        for row in zip(*(_text(c) for c in columns), strict=True):
            writer.writerow(row)
    return n


def _text(column: np.ndarray) -> list:
    """A column as CSV cells: floats to 6 significant digits, None as empty."""
    arr = np.asarray(column)
    if arr.dtype.kind == "f":
        return [f"{v:.6g}" for v in arr.tolist()]
    return ["" if v is None else v for v in arr.tolist()]


__all__ = ["KPI_HELP", "Analysis", "CsvSpec", "analyze", "write_scores"]
