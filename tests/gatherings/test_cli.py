"""`patron gatherings ...` and `patron advocates ...` on a SQLite file."""

from __future__ import annotations

from typer.testing import CliRunner

from patron.cli import app
from patron.db import transaction
from tests import factories


def test_gatherings_and_advocates_commands(sqlite_db, tmp_path):
    env = {"PATRON_DATABASE_URL": sqlite_db.url, "PATRON_SECRET_KEY": "x"}

    def run(*args):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    with transaction(sqlite_db.sessions) as s:
        cid = factories.customer(s, "c1", email="c1@example.com").id
    bad = run(
        "gatherings",
        "create",
        "Dinner",
        "--starts",
        "2030-05-01T19:00",
        "--ends",
        "2030-05-01T18:00",
        "--place",
        "Shop",
    )
    assert bad.exit_code == 2 and "ends_at must be after" in bad.output
    assert "Traceback" not in bad.output
    made = run(
        "gatherings",
        "create",
        "Dinner",
        "--starts",
        "2030-05-01T19:00",
        "--ends",
        "2030-05-01T22:00",
        "--timezone",
        "Europe/Rome",
        "--place",
        "Shop",
        "--capacity",
        "8",
    )
    assert made.exit_code == 0 and "gathering 1 created" in made.stdout, made.output
    assert "1\t2030-05-01T17:00:00+00:00\tDinner\t0/8" in run("gatherings", "list").stdout
    missing = run("gatherings", "invite", "1", "--segment", "42")
    assert missing.exit_code == 2 and "segment 42 does not exist" in missing.output
    sheet = tmp_path / "att.csv"
    sheet.write_text("email\nc1@example.com\nx@y.z\n")
    att = run("gatherings", "attendance", "1", sheet)
    assert att.exit_code == 0 and "1 recorded, 1 matched of 2 rows; unmatched: x@y.z" in att.stdout
    assert f"{cid}\tc1@example.com\tinvited\t20" in run("gatherings", "guests", "1").stdout
    assert "reminders queued" in run("gatherings", "remind").stdout
    score = run("advocates", "score", cid)
    assert score.exit_code == 0 and "score 0" in score.stdout and "attendance: 0" in score.stdout
    listed = run("advocates", "ambassadors", "--everyone")
    assert listed.stdout.startswith("customer\temail\tscore")
    assert run("advocates", "score", 999).exit_code == 2
