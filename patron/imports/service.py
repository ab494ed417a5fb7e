"""Use cases of imports: stream a file's records into the database in batches.

Each batch is its own transaction and each record its own savepoint, so a rejected row leaves
nothing behind and the valid rows around it are imported. Re-importing a file changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from patron.customers import bulk
from patron.customers import service as customers
from patron.customers.rules import OrderInput
from patron.errors import PatronError
from patron.imports.reader import FORMATS, Source, open_source
from patron.imports.rules import CustomerRow, ProductRow, Record, RowError

__all__ = ["FORMATS", "ImportReport", "Rejection", "Source", "apply", "open_source"]

CHUNK = 1000
# Rejected rows kept in the report (for the table); all of them go to on_reject.
KEPT = 10_000
# Per-row failures worth rejecting one row for; anything else aborts the import.
_ROW_FAILURES = (PatronError, SQLAlchemyError, ValueError, OverflowError)


@dataclass(frozen=True)
class Rejection:
    """A rejected row: its number, its cells as read, and every reason."""

    row: int
    cells: list[str]
    errors: list[RowError]


@dataclass
class ImportReport:
    """What an import did: records created, updated or unchanged, and the rejected rows."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    # The first KEPT reasons, sorted by row.
    rejected: list[RowError] = field(default_factory=list)


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
        self.rejected: list[RowError] = []

    def attempt(self, record: Record, action: Callable[[], object]) -> tuple[bool, object]:
        """Run action in a savepoint; on failure reject the record's rows and keep going."""
        try:
            with self.session.begin_nested():
                return True, action()
        except _ROW_FAILURES as exc:
            reason = _reason(exc)
            self.rejected.extend(RowError(row, "", reason) for row in record.rows)
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


def _settle(
    source: Source,
    report: ImportReport,
    records: list[Record],
    errors: list[RowError],
    write: Callable[[list[Record]], list[RowError]],
    on_reject: Callable[[Rejection], None] | None,
) -> None:
    """Write a batch of records, then report its rejected rows with their cells."""
    errors = sorted(errors + write(records), key=lambda e: (e.row, e.column))
    by_row: dict[int, list[RowError]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(error)
    report.rejected_rows += len(by_row)
    report.rejected.extend(errors[: max(KEPT - len(report.rejected), 0)])
    for row, reasons in by_row.items():
        if on_reject:
            on_reject(Rejection(row, source.cells.get(row, []), reasons))
    last = max([e.row for e in errors] + [r for record in records for r in record.rows] or [0])
    source.release(last)


def apply(
    *,
    factory: sessionmaker[Session],
    kind: str,
    source: Source,
    now: datetime,
    dry_run: bool = False,
    chunk_size: int = CHUNK,
    progress: Callable[[int], None] | None = None,
    on_reject: Callable[[Rejection], None] | None = None,
) -> ImportReport:
    """Import a source's records batch by batch, committing each (nothing when dry_run)."""
    report = ImportReport()

    def write(records: list[Record]) -> list[RowError]:
        with factory() as session:
            chunk = _Chunk(session, report, now)
            try:
                getattr(chunk, kind)(records)
                if not dry_run:
                    session.commit()
            finally:
                session.rollback()
        return chunk.rejected

    records: list[Record] = []
    errors: list[RowError] = []
    for item in source.items:
        (records if isinstance(item, Record) else errors).append(item)
        if len(records) + len(errors) >= chunk_size:
            _settle(source, report, records, errors, write, on_reject)
            records, errors = [], []
            if progress:
                progress(source.position())
    _settle(source, report, records, errors, write, on_reject)
    if progress:
        progress(source.position())
    report.rows = source.rows
    return report
