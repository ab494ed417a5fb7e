"""An import file read as a stream: its header, numbered rows as records or errors, bytes read.

Nothing is read ahead beyond one order's rows, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from patron.errors import InvalidInput
from patron.imports import cdnow, orders, rules
from patron.imports.rules import Layout, Record, RowError

FORMATS = ("csv", "cdnow")
# csv's default field limit (128 KiB) is smaller than a 10,000-character cell can be in UTF-8.
csv.field_size_limit(1 << 20)


@dataclass
class Source:
    """Records and rejected rows of a file, in file order, read as they are consumed."""

    items: Iterator[Record | RowError]
    header: list[str] = field(default_factory=list)
    ignored: tuple[str, ...] = ()
    size: int = 0
    # The cells of rows read and not yet imported or rejected, by row number.
    cells: dict[int, list[str]] = field(default_factory=dict)
    rows: int = 0
    position: Callable[[], int] = lambda: 0
    close: Callable[[], None] = lambda: None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def release(self, upto: int) -> None:
        """Forget the cells of rows up to this row number (they are settled)."""
        while self.cells:
            first = next(iter(self.cells))
            if first > upto:
                return
            del self.cells[first]


def open_source(
    *,
    kind: str,
    path: Path,
    fmt: str = "csv",
    mapping: dict[str, str] | None = None,
    attributes: bool = False,
) -> Source:
    """Open a file to import; raises InvalidInput for what makes the whole file unusable."""
    if kind not in rules.KINDS:
        raise InvalidInput(f"unknown kind {kind!r}: use one of {', '.join(rules.KINDS)}")
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use csv or cdnow")
    if not path.is_file():
        raise InvalidInput(f"file not found: {path}")
    if fmt == "cdnow" and (kind != "orders" or mapping):
        raise InvalidInput("--format cdnow imports orders and takes no --map")
    binary = path.open("rb")
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    source = Source(
        items=iter(()),
        size=path.stat().st_size,
        position=binary.tell,
        close=text.close,
    )
    try:
        if fmt == "cdnow":
            source.header = ["line"]
            source.items = cdnow.cdnow_records(_lines(text, source))
        else:
            _open_csv(source, text, kind, mapping or {}, attributes)
    except BaseException:
        text.close()
        raise
    return source


def _lines(text: io.TextIOWrapper, source: Source) -> Iterator[str]:
    """The lines of a CDNOW file, each kept as the one cell of its row."""
    for number, line in enumerate(text, start=1):
        source.rows += 1
        source.cells[number] = [line.rstrip("\r\n")]
        yield line


def _open_csv(
    source: Source, text: io.TextIOWrapper, kind: str, mapping: dict[str, str], attributes: bool
) -> None:
    """Read the header, match its columns, and set the source's items."""
    first = text.readline()
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidInput(f"cannot read the header row: {exc}")
    if not header:
        raise InvalidInput("the file is empty: a CSV import needs a header row")
    where = rules.layout(kind, header, mapping, attributes=attributes)
    source.header, source.ignored = header, where.ignored
    rows = _checked_rows(source, reader, header)
    if kind == "orders":
        source.items = orders.order_records(
            (number, where.values(cells)[0], errors) for number, cells, errors in rows
        )
    else:
        source.items = _singles(kind, where, rows)


def _checked_rows(
    source: Source, reader, header: list[str]
) -> Iterator[tuple[int, list[str], list[RowError]]]:
    """Numbered non-blank rows (row 1 is the header) with what makes their cells unreadable."""
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "end of data" in reason:
                reason = "ends inside a quoted cell (cut short?)"
            source.rows += 1
            source.cells[number] = []
            yield number, [], [RowError(number, "", f"cannot be read: {reason}")]
            continue
        if not any(cell.strip() for cell in cells):
            continue
        source.rows += 1
        source.cells[number] = cells
        yield number, cells, rules.cell_errors(number, header, cells)


def _singles(
    kind: str, where: Layout, rows: Iterator[tuple[int, list[str], list[RowError]]]
) -> Iterator[Record | RowError]:
    """Customers or products: one record a row."""
    for number, cells, errors in rows:
        if errors:
            yield from errors
            continue
        values, extras = where.values(cells)
        if kind == "customers":
            result = rules.customer_record(number, values, extras)
        else:
            result = rules.product_record(number, values)
        yield from (result if isinstance(result, list) else [result])
