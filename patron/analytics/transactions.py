"""Streaming reader of transaction files for `patron analyze`: pyarrow.csv in batches.

Each batch (about ``BLOCK_BYTES`` of the file) is parsed by pyarrow, checked with vectorised
compute functions and added into per-customer totals (``patron.analytics.customer_totals``), so
memory grows with customers, not with rows or file size. Python touches rows only to name the
line of an error.

Customer ids that are all plain integers (no sign, no leading zero, below 2^43) are kept as
integers and sorted numerically; any other id makes every id text, sorted as text. Lines are
physical line numbers of the file (the header is line 1).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from patron.analytics import AnalyticsInputError
from patron.analytics.customer_totals import (
    DAY_BITS,
    DAY_OFFSET,
    Accumulator,
    CustomerTotals,
    Disorder,
    plain_integers,
)

# pyarrow reads dozens of blocks ahead of the parser: small blocks bound that memory.
BLOCK_BYTES = 4 << 20
Progress = Callable[[int, int], None]


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
class _Batch:
    """One batch of trimmed text columns and the file record number of each row."""

    ids: pa.Array
    dates: pa.Array
    amounts: pa.Array
    records: np.ndarray


def read_customer_totals(
    path: Path,
    spec: CsvSpec,
    *,
    now: datetime,
    observation_end: int | None = None,
    calibration_end: int | None = None,
    recent_days: int = 270,
    progress: Progress | None = None,
) -> CustomerTotals:
    """Read, check and total a transactions file; orders after observation_end are dropped."""
    if spec.format not in ("csv", "cdnow"):
        raise AnalyticsInputError("format must be csv or cdnow")
    path = Path(path)
    if not path.is_file():
        raise AnalyticsInputError(f"{path}: no such file")
    now_s = int((now.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    typed = spec.format == "csv" and spec.date_format is None
    keep_keys = False
    while True:
        totals = Accumulator(
            keep_keys=keep_keys,
            observation_end=observation_end,
            calibration_end=calibration_end,
            recent_days=recent_days,
        )
        source = _typed_batches if typed else _checked_batches
        try:
            for ids, days, cents in source(path, spec, now_s, progress):
                totals.add(ids, days, cents)
        except Irregular:
            typed = False  # the checked reader names the offending line and what is wrong
            continue
        except Disorder:
            keep_keys = True
            continue
        return totals.result(path)


class Irregular(Exception):
    """The typed reader met a value it does not take as is: read the file the checked way."""


def _checked_batches(
    path, spec, now_s, progress
) -> Iterator[tuple[pa.Array, np.ndarray, np.ndarray]]:
    """Ids, epoch days and cents of each batch, every value checked (errors name the line)."""
    for batch in _batches(path, spec, progress):
        days, cents = _check(batch, spec, path, now_s)
        yield batch.ids, days, cents.astype(np.int64)


def _typed_batches(
    path, spec, now_s, progress
) -> Iterator[tuple[pa.Array, np.ndarray, np.ndarray]]:
    """The common case fast: ISO dates and numbers converted by pyarrow's parser, integer ids.

    Anything else (a text id, a timestamp, an empty or negative amount, a date in the future,
    a bad line) raises Irregular, and the file is read again by the checked reader, which
    gives the same totals for these files and the one-line errors for bad ones.
    """
    names, picks = _header(path, spec)
    id_name, date_name, amount_name = picks
    size = path.stat().st_size
    convert = pv.ConvertOptions(
        include_columns=picks,
        column_types={id_name: pa.string(), date_name: pa.date32(), amount_name: pa.float64()},
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    read = pv.ReadOptions(block_size=BLOCK_BYTES, column_names=names, skip_rows=1)
    with open(path, "rb") as fh:
        try:
            reader = pv.open_csv(
                fh,
                read_options=read,
                parse_options=pv.ParseOptions(delimiter=spec.delimiter),
                convert_options=convert,
            )
            for record in reader:
                ids = record.column(id_name)
                if not plain_integers(ids):
                    raise Irregular
                days = record.column(date_name).view(pa.int32()).to_numpy().astype(np.int64)
                values = record.column(amount_name).to_numpy()
                if days.size and (
                    int(days.max()) * 86_400 > now_s or int(days.min()) + DAY_OFFSET < 0
                ):
                    raise Irregular
                if not np.isfinite(values).all() or (values < 0).any():
                    raise Irregular
                yield ids, days, np.round(values * 100.0).astype(np.int64)
                if progress:
                    progress(fh.tell(), size)
        except pa.ArrowInvalid:
            raise Irregular from None


def _batches(path: Path, spec: CsvSpec, progress: Progress | None) -> Iterator[_Batch]:
    """Trimmed id, date and amount columns of each batch of the file."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if spec.format == "cdnow":
            yield from _cdnow_batches(fh, path, progress, size)
            return
        names, picks = _header(path, spec)
        options = pv.ReadOptions(block_size=BLOCK_BYTES, column_names=names, skip_rows=1)
        reader = _open(fh, path, spec, options, pv.ParseOptions(delimiter=spec.delimiter), picks)
        start = 0
        for record in _read(reader, path, spec):
            n = record.num_rows
            cols = [pc.utf8_trim_whitespace(record.column(name)) for name in picks]
            yield _Batch(*cols, np.arange(start, start + n))
            start += n
            if progress:
                progress(fh.tell(), size)


def _open(fh, path, spec, read_options, parse_options, picks):
    """A pyarrow streaming CSV reader of the picked columns as text."""
    convert = pv.ConvertOptions(
        include_columns=picks,
        column_types={name: pa.string() for name in picks},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        return pv.open_csv(
            fh, read_options=read_options, parse_options=parse_options, convert_options=convert
        )
    except pa.ArrowInvalid as exc:
        raise _shape_error(path, spec, exc) from None


def _read(reader, path, spec) -> Iterator[pa.RecordBatch]:
    """The batches of a reader, with a parse error turned into a one-line input error."""
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise _shape_error(path, spec, exc) from None


def _header(path: Path, spec: CsvSpec) -> tuple[list[str], list[str]]:
    """Positional column names for pyarrow and the names of the id, date and amount columns."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh, delimiter=spec.delimiter), None)
    if not header:
        raise AnalyticsInputError(f"{path}: the file is empty")
    header = [h.strip() for h in header]
    names = [f"c{i}" for i in range(len(header))]
    picks = []
    for name in (spec.customer, spec.date, spec.amount):
        if name not in header:
            raise AnalyticsInputError(
                f"{path}: unknown column {name!r}; the file has: {', '.join(header)}"
            )
        picks.append(names[header.index(name)])
    return names, picks


def _shape_error(path: Path, spec: CsvSpec, exc: Exception) -> AnalyticsInputError:
    """The first line whose number of fields differs from the header's, found by a slow scan."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        width = len(next(reader, []))
        for row in reader:
            if row and len(row) != width:
                return AnalyticsInputError(
                    f"line {reader.line_num}: {len(row)} fields, the header has {width}"
                )
    return AnalyticsInputError(f"{path}: cannot read the file: {str(exc).splitlines()[0]}")


def _cdnow_batches(fh, path: Path, progress: Progress | None, size: int) -> Iterator[_Batch]:
    """CDNOW lines (``id [sample-id] YYYYMMDD cds dollars``); a header line 1 is skipped."""
    options = pv.ReadOptions(block_size=BLOCK_BYTES, column_names=["line"])
    parse = pv.ParseOptions(delimiter="\x1f", quote_char=False, escape_char=False)
    reader = _open(fh, path, CsvSpec(), options, parse, ["line"])
    start, width = 0, None
    for record in _read(reader, path, CsvSpec()):
        n = record.num_rows
        fields = pc.split_pattern_regex(pc.utf8_trim_whitespace(record.column("line")), r"\s+")
        counts = pc.list_value_length(fields).to_numpy()
        text = pc.list_element(fields, 0)
        keep = (counts > 1) | (pc.utf8_length(text).to_numpy() > 0)
        if start == 0 and n and not pc.match_substring_regex(text[0], r"^[0-9]+$").as_py():
            keep[0] = False
        records = np.arange(start, start + n)[keep]
        start += n
        if not records.size:
            continue
        counts = counts[keep]
        width = int(counts[0]) if width is None else width
        bad = np.flatnonzero((counts != width) | ((counts != 4) & (counts != 5)))
        if bad.size:
            line = _cdnow_line(path, int(records[bad[0]]))
            raise AnalyticsInputError(
                f"line {line}: CDNOW lines have 4 or 5 fields (the first has {width}), "
                f"this one {int(counts[bad[0]])}"
            )
        kept = fields.filter(pa.array(keep))
        shift = width - 4
        yield _Batch(*(pc.list_element(kept, i) for i in (0, 1 + shift, 3 + shift)), records)
        if progress:
            progress(fh.tell(), size)


def _cdnow_line(path: Path, record: int) -> int:
    """The physical line of a CDNOW record (pyarrow skips only empty lines)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        seen = -1
        for number, text in enumerate(fh, start=1):
            if text.rstrip("\r\n"):
                seen += 1
            if seen == record:
                return number
    return record + 1


def _csv_line(path: Path, spec: CsvSpec, record: int) -> int:
    """The physical line of a CSV data record (counting the header and blank lines)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=spec.delimiter)
        next(reader, None)
        seen = -1
        for row in reader:
            seen += bool(row)
            if seen == record:
                return reader.line_num
    return record + 2


def _line(path: Path, spec: CsvSpec, batch: _Batch, i: int) -> int:
    """The physical line of row i of a batch."""
    record = int(batch.records[i])
    return _cdnow_line(path, record) if spec.format == "cdnow" else _csv_line(path, spec, record)


def _check(batch: _Batch, spec: CsvSpec, path: Path, now_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Epoch days and cents of a batch; the first bad value is an error naming its line."""
    seconds = _seconds(batch.dates, spec)
    bad = np.flatnonzero(seconds == np.iinfo(np.int64).min)
    if bad.size:
        line = _line(path, spec, batch, int(bad[0]))
        raise AnalyticsInputError(f"line {line}: cannot read date {batch.dates[bad[0]].as_py()!r}")
    future = np.flatnonzero(seconds > now_s)
    if future.size:
        text = batch.dates[future[0]].as_py()
        raise AnalyticsInputError(
            f"line {_line(path, spec, batch, int(future[0]))}: date {text} is in the future"
        )
    empty = np.flatnonzero(pc.utf8_length(batch.ids).to_numpy() == 0)
    if empty.size:
        line = _line(path, spec, batch, int(empty[0]))
        raise AnalyticsInputError(f"{path}: a row has an empty customer id (line {line})")
    days = np.floor_divide(seconds, 86_400)
    if ((days + DAY_OFFSET < 0) | (days + DAY_OFFSET >= 1 << DAY_BITS)).any():
        i = int(np.flatnonzero((days + DAY_OFFSET < 0) | (days >= DAY_OFFSET))[0])
        raise AnalyticsInputError(f"line {_line(path, spec, batch, i)}: date out of range")
    return days, _cents(batch, spec, path)


def _seconds(dates: pa.Array, spec: CsvSpec) -> np.ndarray:
    """Epoch seconds (UTC) of each date; int64 min where a date cannot be read."""
    fmt = "%Y%m%d" if spec.format == "cdnow" else spec.date_format or "%Y-%m-%d"
    parsed = pc.strptime(dates, format=fmt, unit="s", error_is_null=True)
    out = pc.fill_null(pc.cast(parsed, pa.int64()), np.iinfo(np.int64).min).to_numpy().copy()
    missing = np.flatnonzero(out == np.iinfo(np.int64).min)
    if missing.size and spec.format == "csv" and spec.date_format is None:
        out[missing] = _iso_seconds(dates.take(pa.array(missing)))
    elif missing.size and spec.date_format:
        texts = dates.take(pa.array(missing)).to_pylist()
        out[missing] = [_python_seconds(v, spec.date_format) for v in texts]
    return out


def _iso_seconds(dates: pa.Array) -> np.ndarray:
    """ISO 8601 timestamps (with or without a zone) to epoch seconds, vectorised when uniform."""
    for kind in (pa.timestamp("us"), pa.timestamp("us", "UTC")):
        try:
            micros = pc.cast(pc.cast(dates, kind), pa.int64()).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return np.floor_divide(micros, 1_000_000)
    return np.array([_python_seconds(v, None) for v in dates.to_pylist()], np.int64)


def _python_seconds(text: str, fmt: str | None) -> int:
    """One date the slow way (mixed formats): epoch seconds, or int64 min when unreadable."""
    try:
        moment = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
    except ValueError:
        return np.iinfo(np.int64).min
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 1)


def _cents(batch: _Batch, spec: CsvSpec, path: Path) -> np.ndarray:
    """Amounts in cents; text, NaN, infinities and negative amounts are refused with the line."""
    amounts = batch.amounts
    try:
        values = pc.cast(amounts, pa.float64()).to_numpy()
    except pa.ArrowInvalid:
        values = np.array([_number(v) for v in amounts.to_pylist()])
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        line = _line(path, spec, batch, int(bad[0]))
        raise AnalyticsInputError(f"line {line}: cannot read amount {amounts[bad[0]].as_py()!r}")
    negative = np.flatnonzero(values < 0)
    if negative.size:
        line = _line(path, spec, batch, int(negative[0]))
        raise AnalyticsInputError(
            f"line {line}: negative amount {amounts[negative[0]].as_py()}; "
            "net refunds out of the orders first"
        )
    return np.round(values * 100.0)


def _number(text: str) -> float:
    """A float, NaN when the text is not a number."""
    try:
        return float(text)
    except ValueError:
        return float("nan")
