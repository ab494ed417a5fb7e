"""`patron analyze` and `patron refresh`: outputs, exit codes and one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patron.analytics.lease import refresh_lease
from patron.cli import app
from patron.db import transaction
from tests.analytics.shop import Sale, load_shop

CDNOW = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"
runner = CliRunner()


def test_analyze_cdnow_writes_scores_and_a_self_contained_report(tmp_path):
    scores, report = tmp_path / "scores.csv", tmp_path / "report.html"
    result = runner.invoke(
        app,
        [
            "analyze",
            str(CDNOW),
            "--format",
            "cdnow",
            "--scores",
            str(scores),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "6,919 orders by 2,357 customers" in result.output
    assert "Retention rate" in result.output and "Champions" in result.output
    assert "log-likelihood" in result.output
    with open(scores, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2357 and len({r["customer"] for r in rows}) == 2357
    assert all(0 < float(r["p_alive"]) <= 1 and float(r["clv"]) >= 0 for r in rows)
    assert sum(int(r["orders"]) for r in rows) == 6919
    html = report.read_text()
    assert html.count("<svg") == 2 and "<script" not in html and "<link" not in html
    assert "<style>" in html and "mbgnbd" in html


def _csv(tmp_path, text: str) -> Path:
    """A transactions file with the given content."""
    path = tmp_path / "orders.csv"
    path.write_text(text)
    return path


def test_analyze_csv_with_custom_columns_and_zero_amounts(tmp_path):
    lines = (
        ["who;when;total"]
        + [f"c{i % 7};2024-0{1 + i % 9}-1{i % 10};{(i * 37) % 90}.5" for i in range(60)]
        + ["c1;2024-03-03;0"]
    )
    path = _csv(tmp_path, "\n".join(lines) + "\n")
    result = runner.invoke(
        app,
        [
            "analyze",
            str(path),
            "--customer-column",
            "who",
            "--date-column",
            "when",
            "--amount-column",
            "total",
            "--delimiter",
            ";",
            "--unit",
            "days",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "61 orders by 7 customers" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("customer_id,date,amount\n", "no transactions"),
        ("client,date,amount\na,2024-01-01,5\n", "unknown column 'customer_id'"),
        ("customer_id,date,amount\na,2024-13-45,5\n", "line 2: cannot read date"),
        (
            "customer_id,date,amount\na,2024-01-01,5\nb,2024-01-02,five\n",
            "line 3: cannot read amount",
        ),
        ("customer_id,date,amount\na,2024-01-01,nan\n", "cannot read amount"),
        ("customer_id,date,amount\na,2024-01-01,5\na,2999-01-01,5\n", "in the future"),
        ("customer_id,date,amount\na,2024-01-01,-5\n", "negative amount"),
    ],
)
def test_analyze_bad_input_is_one_error_line_and_exit_2(tmp_path, content, message):
    result = runner.invoke(app, ["analyze", str(_csv(tmp_path, content))])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert "Traceback" not in result.output


def test_analyze_one_customer_reports_why_no_model(tmp_path):
    path = _csv(tmp_path, "customer_id,date,amount\na,2024-01-01,5\na,2024-02-01,7\n")
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    assert "no predictions" in result.output


def test_analyze_missing_file(tmp_path):
    result = runner.invoke(app, ["analyze", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and result.output.startswith("error:")


def test_refresh_command(sqlite_db, monkeypatch):
    with transaction(sqlite_db.sessions) as session:
        load_shop(session, [Sale(f"c{i}", d) for i in range(5) for d in (0, 9 + i, 30)])
    monkeypatch.setenv("PATRON_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("PATRON_SECRET_KEY", "test")
    result = runner.invoke(app, ["refresh"])
    assert result.exit_code == 0, result.output
    assert "scored 5 customers (5 with orders)" in result.output
    assert runner.invoke(app, ["refresh", "--model", "nope"]).exit_code == 2


def test_refresh_command_while_another_runs(sqlite_db, monkeypatch):
    monkeypatch.setenv("PATRON_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("PATRON_SECRET_KEY", "test")
    with refresh_lease(sqlite_db.sessions):
        result = runner.invoke(app, ["refresh"])
    assert result.exit_code == 2
    assert "a refresh is already running" in result.output
    assert "Traceback" not in result.output


MASTER = CDNOW.parent / "CDNOW_master.txt"


def test_analyze_cdnow_master_with_its_header_line(tmp_path):
    result = runner.invoke(app, ["analyze", str(MASTER), "--format", "cdnow"])
    assert result.exit_code == 0, result.output
    assert "69,659 orders by 23,570 customers" in result.output


def test_analyze_calibration_split_reports_holdout_table_and_chart(tmp_path):
    report = tmp_path / "report.html"
    args = ["analyze", str(CDNOW), "--format", "cdnow", "--model", "bgnbd"]
    args += ["--calibration-end", "1997-09-30", "--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Calibration to 1997-09-30" in result.output and "holdout period" in result.output
    html = report.read_text()
    assert "Calibration vs holdout" in html and html.count("<svg") == 3
    assert "r = 0.243" not in html  # the published fit is in the parameters, not a caption
    assert "Mean per customer with 7+ in calibration" in html


def test_analyze_observation_end_ignores_later_orders():
    result = runner.invoke(
        app, ["analyze", str(CDNOW), "--format", "cdnow", "--observation-end", "1997-09-30"]
    )
    assert result.exit_code == 0, result.output
    assert "1997-01-01 to 1997-09-30" in result.output and "orders after the" in result.output


def test_analyze_calibration_end_after_observation_end_is_refused():
    args = ["analyze", str(CDNOW), "--format", "cdnow", "--observation-end", "1997-09-30"]
    result = runner.invoke(app, [*args, "--calibration-end", "1997-10-30"])
    assert result.exit_code == 2 and "calibration end must be before" in result.output


def test_report_css_is_not_escaped_and_kpis_have_change_and_currency(tmp_path):
    report = tmp_path / "report.html"
    result = runner.invoke(
        app, ["analyze", str(CDNOW), "--format", "cdnow", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert '"Segoe UI"' in html and "&#34;Segoe UI&#34;" not in html
    assert '<th class="num">Change</th>' in html and "USD " in html and " pts</td>" in html


def test_scores_written_in_slices_equal_the_file_written_at_once(tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from patron.analytics import analyze

    result = analyze.analyze(
        CDNOW, analyze.CsvSpec(format="cdnow"), now=datetime(2025, 1, 1, tzinfo=UTC)
    )
    whole, sliced = tmp_path / "whole.csv", tmp_path / "sliced.csv"
    analyze.write_scores(result, whole)
    monkeypatch.setattr(analyze, "WRITE_ROWS", 100)
    assert analyze.write_scores(result, sliced) == 2357
    assert sliced.read_bytes() == whole.read_bytes()
    assert whole.read_text().count("\n") == 2358
