"""Use cases of imports: read a file into records, then apply them in chunks with savepoints."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from patron.customers import bulk
from patron.customers import service as customers
from patron.customers.rules import OrderInput
from patron.errors import InvalidInput, PatronError
from patron.imports import cdnow, rules
from patron.imports.rules import CustomerRow, ProductRow, Record, RowError

FORMATS = ("csv", "cdnow")
CHUNK = 1000
# Per-row failures worth rejecting one row for; anything else aborts the import.
_ROW_FAILURES = (PatronError, SQLAlchemyError, ValueError, OverflowError)


@dataclass
class Parsed:
    """A file read into records to import and rows rejected while parsing."""

    records: list[Record]
    rejected: list[RowError]
    rows: int


@dataclass
class ImportReport:
    """What an import did: records created, updated or unchanged, and every rejected row."""

    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and numbered rows of a CSV file (comma, semicolon or tab separated)."""
    handle = path.open(newline="", encoding="utf-8-sig")
    sample = handle.read(65536)
    handle.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample.partition("\n")[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    header = next(reader, None)
    if not header:
        handle.close()
        raise InvalidInput(f"{path} is empty: a CSV import needs a header row")

    def rows():
        with handle:
            yield from (
                (number, cells)
                for number, cells in enumerate(reader, start=2)
                if any(cell.strip() for cell in cells)
            )

    return header, rows()


def read_file(
    *,
    kind: str,
    path: Path,
    fmt: str = "csv",
    mapping: dict[str, str] | None = None,
    attributes: bool = False,
) -> Parsed:
    """Parse and validate a file; raises InvalidInput for what makes the whole file unusable."""
    if kind not in rules.KINDS:
        raise InvalidInput(f"unknown kind {kind!r}: use one of {', '.join(rules.KINDS)}")
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}: use csv or cdnow")
    if not path.is_file():
        raise InvalidInput(f"file not found: {path}")
    if fmt == "cdnow":
        if kind != "orders" or mapping:
            raise InvalidInput("--format cdnow imports orders and takes no --map")
        with path.open(encoding="ascii", errors="replace") as handle:
            return _split(list(cdnow.cdnow_records(handle)))
    header, rows = _csv_rows(path)
    where = rules.layout(kind, header, mapping or {}, attributes=attributes)
    parsed: list = []
    if kind == "orders":
        orders = ((number, where.values(cells)[0]) for number, cells in rows)
        return _split(list(rules.order_records(orders)))
    for number, cells in rows:
        values, extras = where.values(cells)
        if len(cells) > len(header):
            parsed.append(
                [RowError(number, "", f"has {len(cells)} cells, the header {len(header)}")]
            )
        elif kind == "customers":
            parsed.append(rules.customer_record(number, values, extras))
        else:
            parsed.append(rules.product_record(number, values))
    return _split(parsed)


def _split(results: list) -> Parsed:
    """Separate records from errors (single or listed)."""
    records = [r for r in results if isinstance(r, Record)]
    rejected = [
        e for r in results if not isinstance(r, Record) for e in (r if isinstance(r, list) else [r])
    ]
    rows = {row for record in records for row in record.rows} | {e.row for e in rejected}
    return Parsed(records, sorted(rejected, key=lambda e: (e.row, e.column)), len(rows))


def _reason(exc: Exception) -> str:
    """A one-line reason for a row that failed in the database."""
    if isinstance(exc, PatronError):
        return exc.message
    if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) is not None:
        return str(exc.orig).strip().splitlines()[0]
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _same_customer(customer, row: CustomerRow) -> bool:
    """Whether importing the row would change nothing."""
    for name, value in row.profile.items():
        if name == "attributes":
            if any((customer.attributes or {}).get(k) != v for k, v in value.items()):
                return False
        elif name == "consent":
            if any(customers.consent_status(customer, ch) != s for ch, s in value.items()):
                return False
        elif name != "consent_source" and getattr(customer, name) != value:
            return False
    return True


def _same_product(product, row: ProductRow) -> bool:
    """Whether importing the row would change nothing."""
    return (product.name, product.category, product.price_cents, product.currency) == (
        row.name,
        row.category,
        row.price_cents,
        row.currency,
    )


def _same_order(order, new: OrderInput, customer_id: int | None) -> bool:
    """Whether importing the order would change nothing."""
    stored = [(x.sku, x.name, x.quantity, x.unit_price_cents) for x in order.lines]
    given = [(x.sku, x.name, x.quantity, x.unit_price_cents) for x in new.lines]
    return (
        order.customer_id,
        order.placed_at,
        order.status,
        order.currency,
        order.total_cents,
        order.discount_cents,
        order.refunded_cents,
        order.coupon_code,
        stored,
    ) == (
        customer_id,
        new.placed_at,
        new.status,
        new.currency,
        new.total_cents,
        new.discount_cents,
        new.refunded_cents,
        new.coupon_code,
        given,
    )


class _Chunk:
    """Applies one chunk of records in the session's transaction, one savepoint per record."""

    def __init__(self, session: Session, report: ImportReport, now: datetime):
        self.session, self.report, self.now = session, report, now

    def attempt(self, record: Record, action: Callable[[], object]) -> tuple[bool, object]:
        """Run action in a savepoint; on failure reject the record's rows and keep going."""
        try:
            with self.session.begin_nested():
                return True, action()
        except _ROW_FAILURES as exc:
            reason = _reason(exc)
            self.report.rejected.extend(RowError(row, "", reason) for row in record.rows)
            return False, None

    def customers(self, chunk: list[Record]) -> None:
        """Create or update customers by external id."""
        known = bulk.customers_by_external_id(
            session=self.session, external_ids={r.value.external_id for r in chunk}
        )
        for record in chunk:
            row: CustomerRow = record.value
            current = known.get(row.external_id)
            if current is not None and _same_customer(current, row):
                self.report.unchanged += 1
                continue
            ok, saved = self.attempt(
                record,
                partial(
                    customers.upsert_customer,
                    session=self.session,
                    external_id=row.external_id,
                    profile=row.profile,
                    now=self.now,
                ),
            )
            if ok:
                known[row.external_id] = saved
                self._count(current is None)

    def products(self, chunk: list[Record]) -> None:
        """Create or update products by SKU."""
        known = bulk.products_by_sku(session=self.session, skus={r.value.sku for r in chunk})
        for record in chunk:
            row: ProductRow = record.value
            current = known.get(row.sku)
            if current is not None and _same_product(current, row):
                self.report.unchanged += 1
                continue
            ok, saved = self.attempt(
                record,
                partial(
                    customers.upsert_product,
                    session=self.session,
                    sku=row.sku,
                    name=row.name,
                    category=row.category,
                    price_cents=row.price_cents,
                    currency=row.currency,
                    now=self.now,
                ),
            )
            if ok:
                known[row.sku] = saved
                self._count(current is None)

    def orders(self, chunk: list[Record]) -> None:
        """Create or replace orders by external id (customers created as needed), then stats.

        New orders go in with one bulk insert; if that fails, each is retried in its own
        savepoint so only the failing rows are rejected. Changed orders are replaced one by one.
        """
        orders = customers.orders_by_external_id(
            session=self.session, external_ids={r.value.external_id for r in chunk}
        )
        ids = customers.customer_ids(
            session=self.session, external_ids={r.value.customer_external_id for r in chunk}
        )
        fresh, changed = [], []
        for record in chunk:
            current = orders.get(record.value.external_id)
            if current is None:
                fresh.append(record)
            elif _same_order(current, record.value, ids.get(record.value.customer_external_id)):
                self.report.unchanged += 1
            else:
                changed.append((record, current))
        touched = self._insert_orders(fresh)
        if touched is None:
            touched = set()
            changed = [(record, None) for record in fresh] + changed
        for record, current in changed:
            before = current.customer_id if current is not None else None
            ok, saved = self.attempt(record, partial(self._write_order, record.value, current, ids))
            if ok:
                ids[record.value.customer_external_id] = saved
                touched |= {saved, before or saved}
                self._count(current is None)
        customers.customers_changed(session=self.session, customer_ids=touched, now=self.now)

    def _insert_orders(self, fresh: list[Record]) -> set[int] | None:
        """Bulk-insert new orders in one savepoint; their customer ids, or None if it failed."""
        if not fresh:
            return set()
        try:
            with self.session.begin_nested():
                ids = bulk.ensure_customers(
                    session=self.session,
                    now=self.now,
                    external_ids={r.value.customer_external_id for r in fresh},
                )
                bulk.insert_orders(
                    session=self.session,
                    now=self.now,
                    orders=[(r.value, ids[r.value.customer_external_id]) for r in fresh],
                )
        except _ROW_FAILURES:
            return None
        self.report.created += len(fresh)
        return {ids[r.value.customer_external_id] for r in fresh}

    def _write_order(self, new: OrderInput, current, ids: dict[str, int]) -> int:
        """Write one order, creating its customer when unknown; returns the customer id."""
        customer_id = ids.get(new.customer_external_id)
        if customer_id is None:
            customer_id = customers.upsert_customer(
                session=self.session, external_id=new.customer_external_id, profile={}, now=self.now
            ).id
        customers.write_order(
            session=self.session, order=new, customer_id=customer_id, existing=current, now=self.now
        )
        return customer_id

    def _count(self, created: bool) -> None:
        """Count a record as created or updated."""
        if created:
            self.report.created += 1
        else:
            self.report.updated += 1


def apply(
    *,
    factory: sessionmaker[Session],
    kind: str,
    parsed: Parsed,
    now: datetime,
    dry_run: bool = False,
    chunk_size: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import parsed records, committing per chunk (nothing at all when dry_run)."""
    report = ImportReport(rows=parsed.rows, rejected=list(parsed.rejected))
    with factory() as session:
        try:
            for start in range(0, len(parsed.records), chunk_size):
                chunk = parsed.records[start : start + chunk_size]
                getattr(_Chunk(session, report, now), kind)(chunk)
                if not dry_run:
                    session.commit()
                if progress:
                    progress(sum(len(record.rows) for record in chunk))
        finally:
            session.rollback()
    report.rejected.sort(key=lambda e: (e.row, e.column))
    return report
