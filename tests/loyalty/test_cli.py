"""`patron loyalty adjust|summary|liability|maintain` on a migrated SQLite file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from patron.cli import app
from tests.factories import T0
from tests.loyalty import helpers as h


def test_adjust_summary_liability_and_bad_input_in_one_line(sqlite_db):
    env = {"PATRON_DATABASE_URL": sqlite_db.url, "PATRON_SECRET_KEY": "x"}

    def run(*args):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    h.setup(sqlite_db, T0)
    h.customer(sqlite_db, "c1")
    added = run("loyalty", "adjust", "c1", "120", "--reason", "goodwill")
    assert added.exit_code == 0 and "balance 120" in added.stdout, added.output
    summary = json.loads(run("loyalty", "summary", "c1").stdout)
    assert summary["balance"] == 120 and summary["tier"] == "Member"
    assert json.loads(run("loyalty", "liability").stdout)["outstanding"] == 120
    assert json.loads(run("loyalty", "maintain").stdout)["expired"] == 0
    too_much = run("loyalty", "adjust", "--reason", "oops", "--", "c1", "-500")
    assert too_much.exit_code == 2 and "refused by rule 'balance'" in too_much.output
    unknown = run("loyalty", "summary", "nobody")
    assert unknown.exit_code == 2 and "no customer 'nobody'" in unknown.output
    assert "Traceback" not in too_much.output + unknown.output
