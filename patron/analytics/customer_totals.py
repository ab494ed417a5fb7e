"""Per-customer totals of a transactions file, merged batch by batch: memory grows with customers.

Each parsed batch is sorted by (customer, day) and reduced to per-customer aggregates (orders,
cents, first and last day, cents on the first day, distinct purchase days), which are added into
arrays indexed by a dense customer index. Distinct purchase days need no per-pair state while
every customer's days arrive in non-decreasing order (files exported by date or by customer):
a batch can then only repeat a customer's last day. At the first customer whose day goes back,
the file is read again keeping the set of (customer, day) keys (8 bytes each).

Besides the totals, the reader keeps the (customer, day, orders) pairs of the last
``recent_days`` before the latest day seen (the KPI windows) and orders and cents per day, and,
when a calibration end is given, a second set of totals of the orders up to it (the holdout).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.analytics import AnalyticsInputError
from patron.analytics.scoring import BuyerAggregates

DAY_BITS = 20
DAY_MASK = (1 << DAY_BITS) - 1
DAY_OFFSET = 1 << (DAY_BITS - 1)  # days from 1970 - 2^19 (year 535) to 1970 + 2^19 (3405)
_ID_DIGITS = 12  # ids below 10^12 < 2^40: (id, 20-bit day) keys fit in 63 bits
_BIG = np.iinfo(np.int64).max
# A table indexed by id (int32, 4 bytes an id) serves ids up to TABLE_SPREAD times the customers
# seen or up to TABLE_MIN (64 MB), whichever is larger: files sorted by date show ids from all
# over the range in the first batch, so the table must not be judged on that batch's count alone.
TABLE_SPREAD, TABLE_MIN = 16, 1 << 24


@dataclass(frozen=True)
class CustomerTotals:
    """What analyze needs of a file, per customer (sorted by id) and per day."""

    customers: pa.Array
    buyers: BuyerAggregates
    calibration: BuyerAggregates | None
    recent_code: np.ndarray
    recent_day: np.ndarray
    recent_orders: np.ndarray
    day_orders: np.ndarray
    day_cents: np.ndarray
    first_day: int
    last_day: int
    rows: int
    dropped: int = 0

    def window_orders(self, lo: int, hi: int) -> tuple[int, int]:
        """Orders and cents of the days in [lo, hi)."""
        a, b = lo - self.first_day, hi - self.first_day
        a, b = max(a, 0), max(b, 0)
        return int(self.day_orders[a:b].sum()), int(self.day_cents[a:b].sum())


def plain_integers(ids: pa.Array) -> bool:
    """Whether every id is a plain integer: 1 to 12 ASCII digits, no sign, no leading zero."""
    if not len(ids):
        return True
    lengths = pc.binary_length(ids)
    if not pc.all(pc.ascii_is_decimal(ids)).as_py() or pc.max(lengths).as_py() > _ID_DIGITS:
        return False
    return not pc.any(pc.and_(pc.starts_with(ids, "0"), pc.greater(lengths, 1))).as_py()


class Disorder(Exception):
    """A customer's day went back: distinct days need the set of (customer, day) keys."""


class _Totals:
    """Per-customer aggregates in arrays grown as customers appear."""

    def __init__(self, keep_keys: bool) -> None:
        self.n = 0
        self.orders = np.zeros(0, np.int64)
        self.cents = np.zeros(0, np.int64)
        self.first = np.zeros(0, np.int64)
        self.last = np.zeros(0, np.int64)
        self.first_cents = np.zeros(0, np.int64)
        self.days = np.zeros(0, np.int64)
        self.keys: list[np.ndarray] | None = [] if keep_keys else None

    def grow(self, n: int) -> None:
        """Room for n customers; new ones have no orders yet."""
        if n <= self.orders.size:
            self.n = max(self.n, n)
            return
        size = max(n, self.orders.size + self.orders.size // 2, 1024)
        for name, fill in (
            ("orders", 0),
            ("cents", 0),
            ("first", _BIG),
            ("last", -_BIG),
            ("first_cents", 0),
            ("days", 0),
        ):
            old = getattr(self, name)
            new = np.full(size, fill, np.int64)
            new[: old.size] = old
            setattr(self, name, new)
        self.n = n

    def add(self, dense, day, orders, cents, starts) -> None:
        """Add pairs sorted by (customer, day); starts open each customer's run of pairs."""
        ends = np.r_[starts[1:], day.size]
        days_b = ends - starts
        if self.keys is not None:
            self.keys.append((dense.repeat(days_b) << DAY_BITS) | (day + DAY_OFFSET))
            self._compact()
        # Update in dense order: the gathers from the per-customer arrays then walk memory
        # forwards instead of jumping at random (cache misses at millions of customers).
        by = np.argsort(dense)
        dense, days_b = dense[by], days_b[by]
        first_b, last_b = day[starts][by], day[ends - 1][by]
        first_cents = cents[starts][by]
        seen = self.orders[dense] > 0
        if self.keys is None:
            prev = self.last[dense]
            if (seen & (first_b < prev)).any():
                raise Disorder
            days_b = days_b - (seen & (first_b == prev))
        old_first = self.first[dense]
        self.first_cents[dense] = np.where(
            first_b < old_first,
            first_cents,
            self.first_cents[dense] + np.where(first_b == old_first, first_cents, 0),
        )
        self.orders[dense] += np.add.reduceat(orders, starts)[by]
        self.cents[dense] += np.add.reduceat(cents, starts)[by]
        self.first[dense] = np.minimum(old_first, first_b)
        self.last[dense] = np.maximum(self.last[dense], last_b)
        self.days[dense] += days_b

    def _compact(self) -> None:
        """Merge the newest key arrays while the last is at least half the one before it."""
        keys = self.keys
        while len(keys) > 1 and 2 * keys[-1].size >= keys[-2].size:
            keys[-2:] = [_sorted_union(keys[-2:])]

    def result(self, order: np.ndarray) -> BuyerAggregates:
        """The aggregates of customers in `order` (dense indices); the totals are used up.

        Each array is dropped as soon as it is copied, so the copies do not double the memory.
        """
        if self.keys is not None:
            keys = _sorted_union(self.keys)
            self.keys = None
            self.days = np.bincount(keys >> DAY_BITS, minlength=self.n)
            del keys
        out = {}
        for name, field, kind in (
            ("orders", "order_count", None),
            ("first", "first_day", float),
            ("last", "last_day", float),
            ("days", "purchase_days", None),
            ("cents", "total_cents", None),
            ("first_cents", "first_day_cents", None),
        ):
            column = getattr(self, name)[order]
            setattr(self, name, None)
            out[field] = column if kind is None else column.astype(kind)
        return BuyerAggregates(**out)


def _sorted_union(parts: list[np.ndarray]) -> np.ndarray:
    """The distinct keys of sorted arrays, sorted (a merge of runs; np.unique hashes instead)."""
    keys = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    keys.sort(kind="stable")  # timsort: linear on a few sorted runs
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if keys.size else keys


class _Ids:
    """Dense indices of customer ids, in order of appearance; integer ids while all are.

    Small integer ids are looked up in a table indexed by id. Other integer ids live in sorted
    runs of geometrically decreasing size (each batch's new ids are one run; the newest two are
    merged while the newer is at least half the older), so a batch costs a binary search per
    run and an id is copied O(log n) times in all, never every id seen so far per batch.
    """

    def __init__(self) -> None:
        self.levels: list[tuple[np.ndarray, np.ndarray]] = []
        self.total = 0
        self.text: dict[str, int] | None = None
        # While ids are small integers (at most TABLE_SPREAD times the customers seen, as
        # numbered ids are), a table indexed by id gives dense indices in one gather.
        self.table: np.ndarray | None = np.full(0, -1, np.int32)

    @property
    def count(self) -> int:
        return self.total if self.text is None else len(self.text)

    def codes(self, ids: pa.Array) -> tuple[np.ndarray, bool]:
        """Per-row codes and whether they are already dense (text) or integer ids to look up."""
        if self.text is None and plain_integers(ids):
            return pc.cast(ids, pa.int64()).to_numpy(), False
        if self.text is None:
            known, index = self._merged()
            self.text = {str(v): int(i) for v, i in zip(known, index, strict=True)}
        encoded = pc.dictionary_encode(ids)
        table = self.text
        names = encoded.dictionary.to_pylist()
        lut = np.fromiter((table.setdefault(s, len(table)) for s in names), np.int64, len(names))
        return lut[encoded.indices.to_numpy(zero_copy_only=False)], True

    def dense(self, unique_ids: np.ndarray) -> np.ndarray:
        """Dense indices of sorted distinct integer ids, numbering the new ones."""
        if self.table is not None:
            top = int(unique_ids[-1]) + 1  # ids are plain integers: never negative
            limit = max(TABLE_SPREAD * (self.total + unique_ids.size), TABLE_MIN)
            if top <= min(limit, np.iinfo(np.int32).max):
                return self._from_table(unique_ids, top)
            self.levels = [self._merged()] if self.total else []
            self.table = None
        out = np.full(unique_ids.size, -1, np.int64)
        for known, index in self.levels:
            pos = np.searchsorted(known, unique_ids)
            hit = pos < known.size
            hit[hit] = known[pos[hit]] == unique_ids[hit]
            out[hit] = index[pos[hit]]
        fresh = np.flatnonzero(out < 0)
        out[fresh] = np.arange(self.total, self.total + fresh.size)
        self.total += fresh.size
        if fresh.size:
            self.levels.append((unique_ids[fresh], out[fresh]))
        levels = self.levels
        while len(levels) > 1 and 2 * levels[-1][0].size >= levels[-2][0].size:
            levels[-2:] = [_merge_runs(levels[-2:])]
        return out

    def _from_table(self, unique_ids: np.ndarray, top: int) -> np.ndarray:
        if top > self.table.size:
            grown = np.full(max(top, self.table.size + self.table.size // 2), -1, np.int32)
            grown[: self.table.size] = self.table
            self.table = grown
        out = self.table[unique_ids].astype(np.int64)
        fresh = np.flatnonzero(out < 0)
        out[fresh] = np.arange(self.total, self.total + fresh.size)
        self.table[unique_ids[fresh]] = out[fresh]
        self.total += fresh.size
        return out

    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        """All runs (or the table) as one sorted run of ids and their dense indices."""
        if self.table is not None:
            known = np.flatnonzero(self.table >= 0)
            return known, self.table[known].astype(np.int64)
        return _merge_runs(self.levels)

    def sorted(self) -> tuple[pa.Array, np.ndarray]:
        """Customer ids in order (numeric, or text) and the dense index of each."""
        if self.text is None:
            known, index = self._merged()
            return pa.array(known), index
        names = pa.array(list(self.text), pa.string())
        order = pc.sort_indices(names)
        return names.take(order), order.to_numpy()


def _merge_runs(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (id, index) runs as one sorted run (timsort: linear on a few sorted runs)."""
    if not runs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    known = np.concatenate([k for k, _ in runs])
    index = np.concatenate([i for _, i in runs])
    order = np.argsort(known, kind="stable")
    return known[order], index[order]


class Accumulator:
    """Everything analyze needs, added one checked batch at a time."""

    def __init__(self, *, keep_keys, observation_end, calibration_end, recent_days) -> None:
        self.ids = _Ids()
        self.all = _Totals(keep_keys)
        self.cal = None if calibration_end is None else _Totals(keep_keys)
        self.observation_end, self.calibration_end = observation_end, calibration_end
        self.recent_days = recent_days
        self.recent: list[tuple[np.ndarray, np.ndarray]] = []
        self.recent_size = self.recent_kept = 0
        self.day_orders = np.zeros(1 << DAY_BITS, np.int64)
        self.day_cents = np.zeros(1 << DAY_BITS, np.int64)
        self.latest = -_BIG
        self.rows = self.dropped = 0

    def add(self, ids: pa.Array, days: np.ndarray, cents: np.ndarray) -> None:
        """Add one batch of rows (ids, epoch days, integer cents)."""
        codes, dense = self.ids.codes(ids)
        if self.observation_end is not None:
            keep = days <= self.observation_end
            self.dropped += int(keep.size - keep.sum())
            codes, days, cents = codes[keep], days[keep], cents[keep]
        if not codes.size:
            return
        self.rows += codes.size
        key = (codes << DAY_BITS) | (days + DAY_OFFSET)
        order = np.argsort(key)
        key, cents = key[order], cents[order]
        new = np.r_[True, key[1:] != key[:-1]]
        starts = np.flatnonzero(new)
        key = key[starts]
        orders = np.diff(np.r_[starts, order.size])
        cents = np.add.reduceat(cents, starts)
        code, day = key >> DAY_BITS, (key & DAY_MASK) - DAY_OFFSET
        runs = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        customers = code[runs] if dense else self.ids.dense(code[runs])
        self.all.grow(self.ids.count)
        self.all.add(customers, day, orders, cents, runs)
        dense_code = customers.repeat(np.diff(np.r_[runs, code.size]))
        self._by_day(day, orders, cents)
        self._recent(dense_code, day, orders)
        if self.cal is not None:
            self._calibration(dense_code, day, orders, cents)

    def _calibration(self, dense_code, day, orders, cents) -> None:
        keep = day <= self.calibration_end
        if not keep.any():
            return
        code, day, orders, cents = dense_code[keep], day[keep], orders[keep], cents[keep]
        runs = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        self.cal.grow(self.ids.count)
        self.cal.add(code[runs], day, orders, cents, runs)

    def _by_day(self, day, orders, cents) -> None:
        lo, hi = int(day.min()) + DAY_OFFSET, int(day.max()) + DAY_OFFSET + 1
        self.day_orders[lo:hi] += np.bincount(day + DAY_OFFSET - lo, orders, hi - lo).astype(
            np.int64
        )
        self.day_cents[lo:hi] += np.bincount(day + DAY_OFFSET - lo, cents, hi - lo).astype(np.int64)
        self.latest = max(self.latest, hi - 1 - DAY_OFFSET)

    def _recent(self, code, day, orders) -> None:
        """Keep the pairs that may fall in the KPI windows; prune as the latest day moves."""
        keep = day > self._horizon()
        key = (code[keep] << DAY_BITS) | (day[keep] + DAY_OFFSET)
        self.recent.append((key, orders[keep].astype(np.int32)))
        self.recent_size += int(keep.sum())
        if self.recent_size > 2 * self.recent_kept + 1_000_000:
            self._prune()

    def _horizon(self) -> int:
        end = self.latest if self.observation_end is None else self.observation_end
        return end - self.recent_days

    def _prune(self) -> None:
        parts, self.recent = self.recent, []
        key = np.concatenate([k for k, _ in parts])
        orders = np.concatenate([o for _, o in parts])
        del parts
        keep = (key & DAY_MASK) - DAY_OFFSET > self._horizon()
        self.recent = [(key[keep], orders[keep])]
        self.recent_size = self.recent_kept = int(keep.sum())

    def result(self, path: Path) -> CustomerTotals:
        """The totals, customers sorted by id."""
        if not self.rows:
            raise AnalyticsInputError(f"{path}: no transactions")
        customers, order = self.ids.sorted()
        rank = np.empty(order.size, np.int32)
        rank[order] = np.arange(order.size, dtype=np.int32)
        self._prune()
        key, orders = self.recent.pop()
        buyers = self.all.result(order)
        self.all = None  # free the per-customer arrays before the calibration copies
        used = np.flatnonzero(self.day_orders)
        lo, hi = int(used[0]), int(used[-1]) + 1
        return CustomerTotals(
            customers=customers,
            buyers=buyers,
            calibration=None if self.cal is None else self._calibration_result(order),
            recent_code=rank[key >> DAY_BITS],
            recent_day=((key & DAY_MASK) - DAY_OFFSET).astype(np.int32),
            recent_orders=orders,
            day_orders=self.day_orders[lo:hi],
            day_cents=self.day_cents[lo:hi],
            first_day=lo - DAY_OFFSET,
            last_day=hi - 1 - DAY_OFFSET,
            rows=self.rows,
            dropped=self.dropped,
        )

    def _calibration_result(self, order: np.ndarray) -> BuyerAggregates:
        self.cal.grow(self.ids.count)
        return self.cal.result(order)
