"""Per-customer purchase summaries: frequency, recency, age T and mean repeat value.

Definitions follow Fader, Hardie & Lee (2005), "Counting your customers the easy way":

* purchases by one customer on one (UTC) day are one transaction, their values summed;
* ``frequency`` = number of repeat transactions (the first is not a repeat);
* ``recency`` = time from the first to the last transaction;
* ``T`` = time from the first transaction to the end of the observation (calibration) period;
* ``monetary`` = mean value of the repeat transactions (the first excluded), 0 when frequency is 0.

Times are floored to whole (UTC) days. ``observation_end`` and ``calibration_end`` are the *last*
instant observed, inclusive, as in lifetimes and in the papers' CDNOW data: a transaction counts
when its day is on or before it, and ``T = end - first day`` (``T = 0`` for a customer whose first
purchase is on the end day). For the CDNOW calibration through 1997-09-30 pass ``1997-09-30``
(``T = 272/7`` weeks for a customer who first bought on 1997-01-01). A fractional end (e.g. a
``now`` timestamp) gives fractional T. Durations are
expressed in ``unit``: ``"days"``, ``"weeks"``, ``"months"`` (365.25/12 days), ``"years"`` or a
number of days. Values are in whatever money unit they are given; negative values are rejected
(net refunds out first); zero-value transactions count as purchases and enter the monetary mean.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

import numpy as np

from patron.analytics import AnalyticsInputError

UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}


@dataclass(frozen=True)
class CompressedSummary:
    """Distinct (frequency, recency, T) rows, their counts and the map back to customers."""

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    weights: np.ndarray
    inverse: np.ndarray


@dataclass(frozen=True)
class CustomerSummary:
    """Per-customer calibration (and optional holdout) summary, one entry per customer."""

    customer_ids: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray | None
    holdout_frequency: np.ndarray | None = None
    holdout_monetary: np.ndarray | None = None
    holdout_length: float | None = None

    def __len__(self) -> int:
        return int(self.frequency.size)

    def compress(self) -> CompressedSummary:
        """Return the distinct (frequency, recency, T) rows with their counts as weights."""
        return compress_rows(self.frequency, self.recency, self.T)


def compress_rows(frequency, recency, T, weights=None) -> CompressedSummary:
    """Group identical (frequency, recency, T) rows, summing weights (default 1 each)."""
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    tt = np.asarray(T, dtype=float)
    w = np.ones(x.size) if weights is None else np.asarray(weights, dtype=float)
    if _strictly_increasing(x, tx, tt):  # already distinct rows, e.g. a compressed summary's
        return CompressedSummary(x, tx, tt, w.copy(), np.arange(x.size))
    order = np.lexsort((tt, tx, x))
    xs, txs, tts = x[order], tx[order], tt[order]
    new = np.empty(x.size, dtype=bool)
    new[:1] = True
    new[1:] = (xs[1:] != xs[:-1]) | (txs[1:] != txs[:-1]) | (tts[1:] != tts[:-1])
    group = np.cumsum(new) - 1
    inverse = np.empty(x.size, dtype=np.int64)
    inverse[order] = group
    counts = np.bincount(inverse, weights=w, minlength=int(new.sum()))
    return CompressedSummary(xs[new], txs[new], tts[new], counts, inverse)


def _strictly_increasing(x: np.ndarray, tx: np.ndarray, tt: np.ndarray) -> bool:
    """Whether the rows (x, tx, tt) are in strictly increasing lexicographic order."""
    if x.size < 2:
        return True
    dx, dtx, dtt = np.diff(x), np.diff(tx), np.diff(tt)
    return bool(((dx > 0) | ((dx == 0) & ((dtx > 0) | ((dtx == 0) & (dtt > 0))))).all())


def unit_days(unit: str | float) -> float:
    """Return the length of ``unit`` in days."""
    if isinstance(unit, str):
        if unit not in UNITS:
            raise AnalyticsInputError(f"unknown time unit {unit!r}; use one of {sorted(UNITS)}")
        return UNITS[unit]
    if not float(unit) > 0:
        raise AnalyticsInputError("time unit must be a positive number of days")
    return float(unit)


def _naive_utc(value):
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def instant_days(value) -> float:
    """Convert one instant (date, datetime, datetime64 or day number) to fractional epoch days."""
    if isinstance(value, dt.datetime | dt.date | np.datetime64 | str):
        value = np.datetime64(_naive_utc(value))
        if np.isnat(value):
            raise AnalyticsInputError("instant is NaT")
        return float(value.astype("datetime64[us]").astype(np.int64)) / 86_400e6
    out = float(value)
    if not np.isfinite(out):
        raise AnalyticsInputError("instant is not finite")
    return out


def day_numbers(times) -> np.ndarray:
    """Floor an array of instants (datetime64, datetimes or day numbers) to int64 epoch days."""
    arr = np.asarray(times)
    if arr.dtype == object:
        arr = np.array([_naive_utc(v) for v in arr.ravel()], dtype="datetime64[us]")
    if np.issubdtype(arr.dtype, np.datetime64):
        if np.isnat(arr).any():
            raise AnalyticsInputError("times contain NaT")
        return arr.astype("datetime64[D]").astype(np.int64)
    arr = np.asarray(arr, dtype=float)
    if not np.isfinite(arr).all():
        raise AnalyticsInputError("times contain NaN or infinite values")
    return np.floor(arr).astype(np.int64)


def _encode_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map customer ids to dense int64 codes (fast path for integer ids)."""
    if np.issubdtype(ids.dtype, np.integer):
        lo = int(ids.min())
        return np.arange(lo, int(ids.max()) + 1), (ids - lo).astype(np.int64)
    uniq, codes = np.unique(ids, return_inverse=True)
    return uniq, codes.astype(np.int64)


def _sort_keys(codes: np.ndarray, offset: np.ndarray, span: int):
    """Sort rows by (customer, day); return the sorted composite keys and the row order.

    The row index is packed into the low bits of the key when it fits in 63 bits, so one
    ``np.sort`` replaces a slower ``np.argsort``.
    """
    n_keys = (int(codes.max()) + 1) * span
    if n_keys >= 2**62:
        raise AnalyticsInputError("too many customers x days to summarise in one pass")
    key = codes * span + offset
    shift = max(int(codes.size - 1).bit_length(), 1)
    if n_keys < 2 ** (63 - shift):
        packed = np.sort((key << shift) | np.arange(codes.size, dtype=np.int64))
        return packed >> shift, packed & ((1 << shift) - 1)
    order = np.argsort(key, kind="stable")
    return key[order], order


def distinct_days(customer_ids, times, values=None):
    """Collapse rows to one transaction per (customer, day), sorted by customer then day.

    Returns ``(ids, cust, day, value, starts)``: ``cust`` indexes ``ids``, ``value`` is the day's
    summed value (None without values) and ``starts`` the first row of each customer.
    """
    ids = np.asarray(customer_ids)
    days = day_numbers(times)
    if ids.ndim != 1 or days.shape != ids.shape:
        raise AnalyticsInputError("customer_ids and times must be 1-D arrays of equal length")
    if ids.size == 0:
        raise AnalyticsInputError("no transactions")
    vals = None
    if values is not None:
        vals = np.asarray(values, dtype=float)
        if vals.shape != ids.shape:
            raise AnalyticsInputError("values must have the same length as customer_ids")
        if not np.isfinite(vals).all():
            raise AnalyticsInputError("values contain NaN or infinite numbers")
        if (vals < 0).any():
            raise AnalyticsInputError("values contain negative amounts; net refunds out first")
    uniq, codes = _encode_ids(ids)
    dmin = int(days.min())
    span = int(days.max()) - dmin + 1
    key, order = _sort_keys(codes, days - dmin, span)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    cust, day = np.divmod(key[starts], span)
    day += dmin
    value = None if vals is None else np.add.reduceat(vals[order], starts)
    cstarts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    return uniq, cust, day, value, cstarts


def summarize(
    customer_ids, times, values=None, *, observation_end, calibration_end=None, unit="days"
) -> CustomerSummary:
    """Summarise transactions into per-customer frequency, recency, T and mean repeat value."""
    width = unit_days(unit)
    end = instant_days(observation_end)
    cal = end if calibration_end is None else instant_days(calibration_end)
    if cal > end:
        raise AnalyticsInputError("calibration_end is after observation_end")
    uniq, cust, day, value, cstarts = distinct_days(customer_ids, times, values)
    if day.max() > end:
        raise AnalyticsInputError("a transaction is after observation_end")
    n_rows = day.size
    counts = np.diff(np.r_[cstarts, n_rows])
    is_cal = day <= cal
    n_cal = np.add.reduceat(is_cal.astype(np.int64), cstarts)
    keep = n_cal > 0
    if not keep.any():
        raise AnalyticsInputError("no customer has a transaction on or before calibration_end")
    first = day[cstarts]
    last_cal = day[cstarts + np.maximum(n_cal, 1) - 1]
    frequency = n_cal - 1
    monetary = h_freq = h_mon = None
    if value is not None:
        total = np.add.reduceat(value, cstarts)
        cal_total = np.add.reduceat(np.where(is_cal, value, 0.0), cstarts)
        monetary = _safe_mean(cal_total - value[cstarts], frequency)
    if calibration_end is not None:
        h_freq = (counts - n_cal)[keep]
        if value is not None:
            h_mon = _safe_mean((total - cal_total)[keep], h_freq)
    return CustomerSummary(
        customer_ids=uniq[cust[cstarts]][keep],
        frequency=frequency[keep],
        recency=((last_cal - first) / width)[keep],
        T=((cal - first) / width)[keep],
        monetary=None if monetary is None else monetary[keep],
        holdout_frequency=h_freq,
        holdout_monetary=h_mon,
        holdout_length=None if calibration_end is None else (end - cal) / width,
    )


def _safe_mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Return total / count, 0 where count is 0."""
    out = np.zeros(total.shape)
    np.divide(total, count, out=out, where=count > 0)
    return out


def summary_from_aggregates(
    first_order_at,
    last_order_at,
    purchase_days,
    total_spent,
    *,
    observation_end,
    unit="days",
    first_order_value=None,
    customer_ids=None,
) -> CustomerSummary:
    """Build a summary from stored per-customer aggregates (first/last order, days, total).

    ``purchase_days`` is the number of distinct purchase days. Without ``first_order_value`` the
    monetary value is approximated by ``total_spent / purchase_days`` (the first purchase cannot be
    excluded); with it, monetary is the exact mean repeat value ``(total - first) / (days - 1)``.
    """
    width = unit_days(unit)
    end = instant_days(observation_end)
    first = day_numbers(first_order_at)
    last = day_numbers(last_order_at)
    n = np.asarray(purchase_days)
    total = np.asarray(total_spent, dtype=float)
    if first.size == 0:
        raise AnalyticsInputError("no customers")
    if not (first.shape == last.shape == n.shape == total.shape):
        raise AnalyticsInputError("aggregate arrays must have equal lengths")
    if (n < 1).any() or (last < first).any():
        raise AnalyticsInputError("purchase_days < 1 or last order before first order")
    if last.max() > end:
        raise AnalyticsInputError("an order is after observation_end")
    if not np.isfinite(total).all() or (total < 0).any():
        raise AnalyticsInputError("total_spent contains NaN, infinite or negative amounts")
    frequency = n.astype(np.int64) - 1
    if first_order_value is None:
        monetary = np.where(frequency > 0, total / n, 0.0)
    else:
        monetary = _safe_mean(total - np.asarray(first_order_value, dtype=float), frequency)
    ids = np.arange(first.size) if customer_ids is None else np.asarray(customer_ids)
    return CustomerSummary(ids, frequency, (last - first) / width, (end - first) / width, monetary)


def median_interpurchase_interval(customer_ids, times, *, unit="days") -> float:
    """Return the median gap between consecutive purchase days of the same customer."""
    _, cust, day, _, _ = distinct_days(customer_ids, times)
    same = cust[1:] == cust[:-1]
    if not same.any():
        raise AnalyticsInputError("nobody has a repeat purchase; no inter-purchase interval")
    return float(np.median(np.diff(day)[same])) / unit_days(unit)


def read_transactions_csv(path, *, delimiter=",", skip_header=1, integer_ids=True):
    """Read ``customer_id, date (ISO), value`` rows into arrays ``(ids, times, values)``.

    Fast path: integer customer ids and ISO dates (``YYYY-MM-DD``, optionally with a time)
    parsed in chunks by NumPy; set ``integer_ids=False`` for text ids.
    """
    ids, dates, values = [], [], []
    with open(path, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for _ in range(skip_header):
            next(reader, None)
        while True:
            chunk = [row for _, row in zip(range(500_000), reader, strict=False)]
            if not chunk:
                break
            cols = list(zip(*chunk, strict=True))
            ids.append(np.array(cols[0], dtype=np.int64 if integer_ids else str))
            dates.append(np.array(cols[1], dtype="datetime64[s]"))
            values.append(np.array(cols[2], dtype=float))
    if not ids:
        raise AnalyticsInputError(f"{path}: no transactions")
    return np.concatenate(ids), np.concatenate(dates), np.concatenate(values)
