"""The reader `patron analyze` had before pyarrow (csv.reader loops), kept as the reference."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from patron.analytics import AnalyticsInputError
from patron.analytics.scoring import BuyerAggregates
from patron.analytics.transactions import CsvSpec


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
