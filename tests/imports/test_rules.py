"""Pure import rules: column mapping, row validation, order grouping, CDNOW lines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from patron.errors import InvalidInput
from patron.imports import cdnow, orders, rules
from patron.imports.rules import Record, RowError


def test_mapping_options_parse_and_refuse_garbage():
    assert rules.parse_mapping(["email=E-mail", " external_id = Customer ID "]) == {
        "email": "E-mail",
        "external_id": "Customer ID",
    }
    assert rules.parse_mapping(["name=a=b"]) == {"name": "a=b"}
    for bad in ("email", "=E-mail", "email="):
        with pytest.raises(InvalidInput, match="TARGET=SOURCE"):
            rules.parse_mapping([bad])


def test_layout_matches_headers_by_name_or_mapping():
    header = ["ID", "EMAIL", "Plan", "Score"]
    where = rules.layout("customers", header, {"external_id": "id"}, attributes=True)
    assert where.columns == {"external_id": 0, "email": 1}
    assert where.extras == {"Plan": 2, "Score": 3}
    values, extras = where.values([" 7 ", "a@b.io", "", "12"])
    assert values == {"external_id": "7", "email": "a@b.io"}
    assert extras == {"Score": "12"}
    assert rules.layout("customers", header, {"external_id": "ID"}).extras == {}


@pytest.mark.parametrize(
    "kind, header, mapping, message",
    [
        ("customers", ["email"], {}, "missing required column external_id"),
        ("customers", ["id"], {"external_id": "CustomerID"}, "'CustomerID'"),
        ("customers", ["id"], {"shoe_size": "id"}, "cannot map shoe_size"),
        ("products", ["sku", "name"], {}, "price or price_cents"),
        ("orders", ["external_id", "customer_id", "placed_at"], {}, "total or total_cents"),
    ],
)
def test_layout_refuses_unusable_files(kind, header, mapping, message):
    with pytest.raises(InvalidInput, match=message):
        rules.layout(kind, header, mapping)


def test_customer_rows_are_normalised_or_rejected_with_every_reason():
    record = rules.customer_record(
        2,
        {
            "external_id": "c1",
            "email": "Ada@X.IO",
            "birthday": "1990-12-10",
            "consent_email": "Yes",
        },
        {"plan": "pro"},
    )
    assert isinstance(record, Record) and record.rows == (2,)
    assert record.value.profile == {
        "email": "ada@x.io",
        "birthday": date(1990, 12, 10),
        "consent": {"email": "granted"},
        "consent_source": "import",
        "attributes": {"plan": "pro"},
    }
    errors = rules.customer_record(
        3, {"email": "nope", "birthday": "10/12/1990", "first_name": "x" * 256}, {}
    )
    assert {(e.row, e.column) for e in errors} == {
        (3, "email"),
        (3, "birthday"),
        (3, "first_name"),
        (3, "external_id"),
    }


def test_product_rows_convert_money_exactly():
    record = rules.product_record(2, {"sku": "S", "price": "19.99", "currency": "eur"})
    assert (record.value.price_cents, record.value.currency, record.value.name) == (
        1999,
        "EUR",
        "S",
    )
    assert (
        rules.product_record(2, {"sku": "Y", "price": "1000", "currency": "JPY"}).value.price_cents
        == 1000
    )
    assert [e.column for e in rules.product_record(3, {"sku": "S", "price": "12,50"})] == ["price"]
    assert rules.product_record(2, {"sku": "S", "price_cents": "250"}).value.price_cents == 250
    bad = rules.product_record(4, {"sku": "S", "price": "twelve"})
    assert [(e.row, e.column) for e in bad] == [(4, "price")]
    assert [e.column for e in rules.product_record(5, {"sku": "S", "price_cents": "-1"})] == [
        "price"
    ]


def _orders(*rows: dict) -> list:
    """Parse order rows numbered from 2."""
    return list(orders.order_records((i + 2, row) for i, row in enumerate(rows)))


def test_rows_with_one_order_id_form_its_lines_and_total():
    base = {"external_id": "o1", "customer_id": "c1", "placed_at": "2025-01-05T11:00:00+01:00"}
    [record] = _orders(
        {**base, "sku": "A", "quantity": "2", "unit_price": "1.50"},
        {"external_id": "o1", "sku": "B", "unit_price_cents": "100"},
    )
    order = record.value
    assert record.rows == (2, 3)
    assert order.placed_at == datetime(2025, 1, 5, 10, tzinfo=UTC)
    assert [(x.sku, x.quantity, x.unit_price_cents) for x in order.lines] == [
        ("A", 2, 150),
        ("B", 1, 100),
    ]
    assert order.total_cents == 400
    [given] = _orders({**base, "total": "3.99", "discount": "1"})
    assert (given.value.total_cents, given.value.discount_cents, given.value.lines) == (
        399,
        100,
        (),
    )


def test_one_bad_row_rejects_the_whole_order():
    base = {"external_id": "o1", "customer_id": "c1", "placed_at": "2025-01-05"}
    results = _orders(
        {**base, "sku": "A", "unit_price": "1"},
        {**base, "sku": "B", "quantity": "0", "unit_price": "1"},
        {"external_id": "o2", "customer_id": "c1", "placed_at": "2025-01-05", "total": "5"},
    )
    errors = [r for r in results if isinstance(r, RowError)]
    assert [(e.row, e.column) for e in errors] == [(3, "quantity"), (2, "external_id")]
    assert "rejected row 3" in errors[1].reason
    assert [r.value.external_id for r in results if isinstance(r, Record)] == ["o2"]


@pytest.mark.parametrize(
    "change, column, reason",
    [
        ({"placed_at": "2025-01-05T10:00:00"}, "placed_at", "no time zone"),
        ({"placed_at": "soon"}, "placed_at", "ISO-8601"),
        ({"status": "lost"}, "status", "must be one of"),
        ({"total": None}, "total", "no lines"),
        ({"total": "-5"}, "total", "between"),
        ({"currency": "dollars"}, "currency", "ISO code"),
    ],
)
def test_bad_order_fields_are_reported_by_column(change, column, reason):
    row = {"external_id": "o1", "customer_id": "c1", "placed_at": "2025-01-05", "total": "5"}
    row = {k: v for k, v in {**row, **change}.items() if v is not None}
    [error] = _orders(row)
    assert (error.row, error.column) == (2, column) and reason in error.reason


def test_later_rows_must_agree_with_the_first():
    base = {"external_id": "o1", "customer_id": "c1", "placed_at": "2025-01-05", "total": "5"}
    results = _orders(base, {**base, "customer_id": "c2"})
    assert [(r.row, r.column) for r in results] == [(3, "customer_id"), (2, "external_id")]


def test_cdnow_ids_count_purchases_per_customer_day():
    lines = [
        " customer_id  date number_of_cds  dollar_value\n",
        " 00004 19970101  2   29.33\n",
        " 00004 19970101  1   10.00\n",
        " 00005 0002 19970101  3   0.00\n",
        "\n",
        " 00004 19970102  1   5.5\n",
    ]
    results = list(cdnow.cdnow_records(lines))
    assert [r.value.external_id for r in results] == [
        "cdnow-00004-19970101-0",
        "cdnow-00004-19970101-1",
        "cdnow-00005-19970101-0",
        "cdnow-00004-19970102-0",
    ]
    first = results[0].value
    assert (first.customer_external_id, first.total_cents, first.placed_at) == (
        "00004",
        2933,
        datetime(1997, 1, 1, tzinfo=UTC),
    )
    assert [(x.quantity, x.unit_price_cents) for x in first.lines] == [(2, 1467)]
    assert [r.rows for r in results] == [(2,), (3,), (4,), (6,)]


def test_cdnow_bad_lines_are_rejected():
    lines = [
        " 00004 19970101  2\n",
        " 00004 19971301  2  1.00\n",
        " x4 19970101 1 1.00\n",
        " 00004 19970101  two  1.00\n",
        " 00004 19970101  1  -1.00\n",
    ]
    assert [(e.row, e.column) for e in cdnow.cdnow_records(lines)] == [
        (1, ""),
        (2, "date"),
        (3, "customer_id"),
        (4, "CDs"),
        (5, "dollars"),
    ]
