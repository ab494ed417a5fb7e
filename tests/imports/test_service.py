"""Import service on both databases: CDNOW aggregates, CSV files, idempotence, row isolation."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from patron.customers.rules import OrderInput
from patron.customers.tables import Customer, CustomerStats, Order, OrderLine, Product
from patron.db import transaction
from patron.imports import service
from patron.imports.rules import Record

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parents[1] / "data" / "CDNOW_sample.txt"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ORDER_MAP = {"external_id": "order_id", "customer_id": "customer"}


def _import(db, kind: str, path: Path, **options) -> service.ImportReport:
    """Read and apply a file."""
    apply_options = {k: options.pop(k) for k in ("dry_run", "chunk_size") if k in options}
    with service.open_source(kind=kind, path=path, **options) as source:
        return service.apply(
            factory=db.sessions, kind=kind, source=source, now=NOW, **apply_options
        )


def _snapshot(db, model) -> list[tuple]:
    """Every row of a table as a tuple of its column values."""
    columns = model.__table__.columns
    with transaction(db.sessions) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(*columns).order_by(*model.__table__.primary_key.columns)
            )
        ]


def _expected_from_sample() -> dict[str, dict]:
    """Per-customer aggregates computed directly from the CDNOW sample file."""
    per = defaultdict(lambda: {"orders": 0, "days": set(), "cents": 0})
    for line in SAMPLE.read_text().splitlines():
        customer, _, day, _, dollars = line.split()
        per[customer]["orders"] += 1
        per[customer]["days"].add(day)
        per[customer]["cents"] += int(Decimal(dollars) * 100)
    return per


def test_cdnow_sample_imports_fast_with_matching_aggregates(db):
    report = _import(db, "orders", SAMPLE, fmt="cdnow")
    expected = _expected_from_sample()
    assert (report.rows, report.created, report.rejected) == (6919, 6919, [])
    with transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == len(expected)
        assert session.scalar(select(func.sum(CustomerStats.total_spent_cents))) == sum(
            e["cents"] for e in expected.values()
        )
        busiest = max(expected, key=lambda c: (len(expected[c]["days"]), c))
        stats = session.scalar(
            select(CustomerStats)
            .join(Customer, Customer.id == CustomerStats.customer_id)
            .where(Customer.external_id == busiest)
        )
        assert (stats.order_count, stats.purchase_days, stats.total_spent_cents) == (
            expected[busiest]["orders"],
            len(expected[busiest]["days"]),
            expected[busiest]["cents"],
        )
        repeaters = session.scalar(select(func.count()).where(CustomerStats.purchase_days > 1))
        assert repeaters == sum(len(e["days"]) > 1 for e in expected.values())
    before = [_snapshot(db, model) for model in (Customer, Order, OrderLine, CustomerStats)]
    again = _import(db, "orders", SAMPLE, fmt="cdnow")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6919)
    assert [_snapshot(db, model) for model in (Customer, Order, OrderLine, CustomerStats)] == before


def test_csv_orders_import_valid_orders_and_leave_nothing_of_rejected_ones(db):
    _import(db, "products", DATA / "products.csv")
    report = _import(db, "orders", DATA / "orders.csv", mapping=ORDER_MAP, chunk_size=2)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert [(e.row, e.column) for e in report.rejected] == [
        (5, "external_id"),
        (6, "quantity"),
        (7, "placed_at"),
    ]
    with transaction(db.sessions) as session:
        orders = {o.external_id: o for o in session.scalars(select(Order))}
        assert sorted(orders) == ["o1", "o2", "o5"]
        o1 = orders["o1"]
        assert (o1.total_cents, o1.status, o1.coupon_code) == (4500, "paid", "WELCOME")
        assert [(x.sku, x.category, x.total_cents) for x in o1.lines] == [
            ("MUG", "kitchen", 2500),
            ("TEE", "apparel", 2000),
        ]
        assert orders["o2"].placed_at == datetime(2025, 1, 6, tzinfo=UTC)
        assert session.scalar(select(Customer).where(Customer.external_id == "c9")) is None
    before = _snapshot(db, Order), _snapshot(db, OrderLine)
    again = _import(db, "orders", DATA / "orders.csv", mapping=ORDER_MAP)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (_snapshot(db, Order), _snapshot(db, OrderLine)) == before


def test_changed_rows_update_and_move_aggregates(db, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("external_id,customer_id,placed_at,total\no1,c1,2025-01-01,10\n")
    _import(db, "orders", path)
    path.write_text("external_id,customer_id,placed_at,total\no1,c2,2025-01-01,12.5\n")
    report = _import(db, "orders", path)
    assert (report.created, report.updated) == (0, 1)
    with transaction(db.sessions) as session:
        spent = dict(
            session.execute(
                select(Customer.external_id, CustomerStats.total_spent_cents).join(CustomerStats)
            ).all()
        )
    assert spent == {"c1": 0, "c2": 1250}


def test_customers_and_products_upsert_idempotently(db):
    mapping = {"external_id": "CustomerID", "email": "E-mail", "consent_email": "Newsletter"}
    report = _import(db, "customers", DATA / "customers.csv", mapping=mapping, attributes=True)
    assert (report.created, [e.row for e in report.rejected]) == (3, [4, 5])
    with transaction(db.sessions) as session:
        ada = session.scalar(select(Customer).where(Customer.external_id == "c1"))
        assert (ada.email, ada.attributes, ada.consents[0].status) == (
            "ada@example.com",
            {"plan": "pro"},
            "granted",
        )
    before = _snapshot(db, Customer)
    again = _import(db, "customers", DATA / "customers.csv", mapping=mapping, attributes=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _snapshot(db, Customer) == before
    products = _import(db, "products", DATA / "products.csv")
    assert (products.created, [e.row for e in products.rejected]) == (3, [4])
    assert _import(db, "products", DATA / "products.csv").unchanged == 3
    with transaction(db.sessions) as session:
        cap = session.scalar(select(Product).where(Product.sku == "CAP"))
        assert (cap.price_cents, cap.currency) == (999, "USD")


def test_dry_run_saves_nothing(db):
    report = _import(db, "orders", DATA / "orders.csv", mapping=ORDER_MAP, dry_run=True)
    assert report.created == 3
    assert _snapshot(db, Order) == [] and _snapshot(db, Customer) == []


def test_a_row_failing_in_the_database_rejects_only_itself(db):
    def order(number: int, total: int) -> Record:
        return Record(
            (number,),
            OrderInput(
                external_id=f"o{number}",
                customer_external_id=f"c{number}",
                placed_at=NOW,
                total_cents=total,
            ),
        )

    # 2**70 passes the pure rules' shape checks but fits no BIGINT column.
    records = [order(2, 100), order(3, 2**70), order(4, 300)]
    source = service.Source(items=iter(records))
    report = service.apply(factory=db.sessions, kind="orders", source=source, now=NOW)
    assert [e.row for e in report.rejected] == [3]
    assert report.created == 2
    with transaction(db.sessions) as session:
        assert sorted(session.scalars(select(Order.external_id))) == ["o2", "o4"]
        assert sorted(session.scalars(select(Customer.external_id))) == ["c2", "c4"]
        assert sorted(session.scalars(select(CustomerStats.total_spent_cents))) == [100, 300]
