"""`patron surveys ...` and `patron reviews ...` on a SQLite file (migrated by the first run)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from patron.cli import app


def test_survey_and_review_commands(tmp_path):
    env = {"PATRON_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATRON_SECRET_KEY": "x"}

    def run(*args):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    created = run("surveys", "create", "Quarterly NPS")
    assert created.exit_code == 0 and "survey 1 created" in created.stdout, created.output
    assert run("surveys", "list").stdout.startswith("1\tQuarterly NPS\tactive\t0\t–")
    summary = json.loads(run("surveys", "results", "1").stdout)["summary"]
    assert summary["answers"] == 0 and summary["nps"] is None
    bad = run("surveys", "create", "X", "--questions", "[{")
    assert bad.exit_code == 2 and "not valid JSON" in bad.output
    unscored = run("surveys", "create", "Y", "--questions", '[{"type": "text", "prompt": "?"}]')
    assert unscored.exit_code == 2 and "must be scored" in unscored.output
    missing = run("surveys", "send", "1", "--segment", "9")
    assert missing.exit_code == 2 and "segment 9" in missing.output
    assert run("reviews", "send-due").stdout.strip() == "nothing due"
    assert run("reviews", "approve", "5").exit_code == 2
    assert "Traceback" not in bad.output + unscored.output + missing.output
