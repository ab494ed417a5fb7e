"""`patron import` through the CLI: exit codes, rejected-row report, idempotent re-import."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patron.cli import app

DATA = Path(__file__).parent / "data"
ORDER_MAP = ["--map", "external_id=order_id", "--map", "customer_id=customer"]


@pytest.fixture
def run(tmp_path):
    """Run `patron` against a SQLite file in tmp_path; returns the click Result."""
    env = {"PATRON_DATABASE_URL": f"sqlite:///{tmp_path / 'patron.db'}", "PATRON_SECRET_KEY": "x"}

    def invoke(*args: str):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    return invoke


def test_rejected_rows_give_exit_1_a_table_and_a_rejects_file(run, tmp_path):
    rejects = tmp_path / "rejects.csv"
    assert run("import", "products", DATA / "products.csv").exit_code == 1
    result = run("import", "orders", DATA / "orders.csv", *ORDER_MAP, "--rejects", rejects)
    assert result.exit_code == 1, result.output
    assert "Rejected rows" in result.stdout
    assert "3 created, 0 updated, 0 unchanged; 3 rows rejected" in result.stdout
    assert "no time zone" in result.stdout
    with rejects.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["_row"], r["_column"], r["order_id"]) for r in rows] == [
        ("5", "external_id", "o3"),
        ("6", "quantity", "o3"),
        ("7", "placed_at", "o4"),
    ]
    again = run("import", "orders", DATA / "orders.csv", *ORDER_MAP)
    assert "0 created, 0 updated, 3 unchanged; 3 rows rejected" in again.stdout


def test_clean_file_exits_0_and_reimport_changes_nothing(run, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id,email,first_name\nc1,a@x.io,Ada\nc2,b@x.io,Bob\n")
    first = run("import", "customers", path)
    assert first.exit_code == 0, first.output
    assert "2 created" in first.stdout and "Rejected" not in first.stdout
    second = run("import", "customers", path)
    assert second.exit_code == 0 and "0 created, 0 updated, 2 unchanged" in second.stdout


def test_dry_run_reports_but_saves_nothing(run, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("external_id\nc1\n")
    assert "(dry run" in run("import", "customers", path, "--dry-run").stdout
    assert "1 created" in run("import", "customers", path).stdout


def test_cdnow_format(run, tmp_path):
    path = tmp_path / "cdnow.txt"
    path.write_text(
        " 00001 19970101  1   11.77\n 00002 19970112  1   12.00\n 00002 19970112  oops  12.00\n"
    )
    result = run("import", "orders", path, "--format", "cdnow")
    assert result.exit_code == 1 and "2 created" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["import", "customers", "missing.csv"], "file not found"),
        (["import", "shoes", DATA / "customers.csv"], "unknown kind"),
        (["import", "customers", DATA / "customers.csv", "--map", "email"], "TARGET=SOURCE"),
        (["import", "customers", DATA / "customers.csv", "--map", "external_id=Nope"], "'Nope'"),
        (["import", "customers", DATA / "customers.csv"], "missing required column external_id"),
        (["import", "customers", DATA / "customers.csv", "--format", "cdnow"], "cdnow"),
    ],
)
def test_fatal_errors_exit_2_with_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert "Traceback" not in result.output
