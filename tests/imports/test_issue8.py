"""Issue 8, import: overflow and cut rows rejected, NUL per row, fixable rejects, warnings."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from patron.cli import app
from patron.customers.tables import Customer, Order
from patron.db import transaction
from patron.imports import service

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HEADER = "external_id,customer_id,placed_at,total,sku,quantity,unit_price\n"


@pytest.fixture
def run(tmp_path):
    """Run `patron` against a SQLite file in tmp_path; returns the click Result."""
    env = {"PATRON_DATABASE_URL": f"sqlite:///{tmp_path / 'patron.db'}", "PATRON_SECRET_KEY": "x"}

    def invoke(*args: str):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    return invoke


def _rejects(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _orders(db) -> list[str]:
    with transaction(db.sessions) as session:
        return sorted(session.scalars(select(Order.external_id)))


def test_overflowing_money_and_dates_are_row_rejections(run, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "o1,c1,2025-01-01,1e308,MUG,1,2\n"
        "o2,c1,9999-12-31T23:59:59-23:59,10,MUG,1,2\n"
        "o3,c1,0001-01-01T00:00:00+01:00,10,MUG,1,2\n"
        "o4,c1,2025-01-01,,MUG,1,1e308\n"
        "o5,c1,2025-01-01,,MUG,1000000,9999999999999\n"
        "o6,c1,2025-01-01,-1e400,MUG,1,2\n"
        "o7,c1,2025-01-01,10,MUG,1,2\n"
    )
    rejects = tmp_path / "rejects.csv"
    result = run("import", "orders", path, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "1 created" in result.stdout and "6 rows rejected" in result.stdout
    got = {(r["_row"], r["_column"]) for r in _rejects(rejects)}
    assert got == {
        ("2", "total"),
        ("3", "placed_at"),
        ("4", "placed_at"),
        ("5", "unit_price"),
        ("6", "total"),
        ("7", "total"),
    }


def test_cut_and_overlong_rows_are_rejected(run, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + "o1,c1,2025-01-01,10,COF-001,1,10\n"
        "o2,c1,2025-01-01,10,COF-001,1,10,surprise\n"
        "o3,c1,2025-01-01,10,COF-00"
    )
    rejects = tmp_path / "rejects.csv"
    result = run("import", "orders", path, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert "1 created" in result.stdout and "2 rows rejected" in result.stdout
    reasons = {r["_row"]: r["_reason"] for r in _rejects(rejects)}
    assert reasons == {
        "3": "has 8 cells, the header 7",
        "4": "has 5 cells, the header 7 (cut short?)",
    }


def test_an_unclosed_quote_at_the_end_rejects_that_row(run, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + 'o1,c1,2025-01-01,10,COF-001,1,10\no2,c1,2025-01-01,10,"COF-0')
    result = run("import", "orders", path)
    assert result.exit_code == 1, result.output
    assert "1 created" in result.stdout and "1 row rejected" in result.stdout


def test_one_nul_rejects_only_its_row(db, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,customer_id,placed_at,total\n"
        "o1,c1,2025-01-01,10\no2,c\x002,2025-01-01,10\no\x003,c3,2025-01-01,10\no4,c4,2025-01-01,10\n"
    )
    with service.open_source(kind="orders", path=path) as source:
        report = service.apply(factory=db.sessions, kind="orders", source=source, now=NOW)
    assert [(e.row, e.column) for e in report.rejected] == [(3, "customer_id"), (4, "external_id")]
    assert report.created == 2
    assert _orders(db) == ["o1", "o4"]
    with transaction(db.sessions) as session:
        assert sorted(session.scalars(select(Customer.external_id))) == ["c1", "c4"]


def test_invalid_utf8_rejects_only_its_row(run, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"external_id,first_name\nc1,Ada\nc2,Gr\xe2ce\nc3,Alan\n")
    rejects = tmp_path / "rejects.csv"
    result = run("import", "customers", path, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert "2 created" in result.stdout and "1 row rejected" in result.stdout
    assert b"c2,Gr\xe2ce,3" in rejects.read_bytes()


def test_rejects_file_keeps_the_cells_so_a_fixed_file_reimports(run, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer,placed_at,sku,quantity,unit_price\n"
        "o1,c1,2025-01-05,MUG,2,12.50\n"
        "o1,c1,2025-01-05,TEE,0,20.00\n"
        "o2,c2,2025-01-06,CAP,1,9.99\n"
    )
    rejects = tmp_path / "rejects.csv"
    mapping = ["--map", "external_id=order_id", "--map", "customer_id=customer"]
    result = run("import", "orders", path, *mapping, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert "row 2 is the first data row" in result.stdout
    with rejects.open(newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == [
        "order_id",
        "customer",
        "placed_at",
        "sku",
        "quantity",
        "unit_price",
        "_row",
        "_column",
        "_reason",
    ]
    assert [line[:6] + line[6:8] for line in lines[1:]] == [
        ["o1", "c1", "2025-01-05", "MUG", "2", "12.50", "2", "external_id"],
        ["o1", "c1", "2025-01-05", "TEE", "0", "20.00", "3", "quantity"],
    ]
    fixed = rejects.read_text().replace(",TEE,0,", ",TEE,1,")
    rejects.write_text(fixed)
    again = run("import", "orders", rejects, *mapping)
    assert again.exit_code == 0, again.output
    assert "1 created" in again.stdout and "warning" not in again.output


def test_one_rejected_row_is_singular(run, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id,email\nc1,a@x.io\nc2,nope\n")
    result = run("import", "customers", path)
    assert "2 rows read; 1 created, 0 updated, 0 unchanged; 1 row rejected" in result.stdout


def test_unknown_columns_are_named_in_a_warning(run, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id,email,loyalty_tier,Shoe Size\nc1,a@x.io,gold,42\n")
    result = run("import", "customers", path)
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1
    assert "loyalty_tier, Shoe Size" in warning[0] and "--attributes" in warning[0]
    kept = run("import", "customers", path, "--attributes")
    assert "warning" not in kept.stderr
    orders = tmp_path / "orders.csv"
    orders.write_text("external_id,customer_id,placed_at,total,channel\no1,c1,2025-01-01,1,web\n")
    result = run("import", "orders", orders, "--attributes")
    assert "warning: ignoring column channel" in result.stderr and "--map" in result.stderr
