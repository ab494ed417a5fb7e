"""`patron segments list|count|export|refresh` on a SQLite file."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from patron.segments import service
from tests import factories

GOLD = {
    "type": "and",
    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
}


@pytest.fixture
def run(tmp_path):
    """Run `patron` against a SQLite file holding one segment of two gold customers."""
    url = f"sqlite:///{tmp_path / 'patron.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        for i in range(3):
            factories.customer(s, f"c{i}", attributes={"plan": "gold" if i else "free"})
        service.create_segment(session=s, name="Gold", rules_json=GOLD, now=factories.T0)
        factories.customer(s, "c9", attributes={"plan": "gold"})
    engine.dispose()
    env = {"PATRON_DATABASE_URL": url, "PATRON_SECRET_KEY": "x"}
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args], env=env)


def test_list_count_refresh_export(run, tmp_path):
    listing = run("segments", "list")
    assert listing.exit_code == 0, listing.output
    assert "1\tGold\t2\t" in listing.stdout and "Birthdays this month" in listing.stdout
    assert run("segments", "count", "1").stdout.strip() == "3"
    refreshed = run("segments", "refresh", "1")
    assert "1\tGold\t3 members\t+1 -0" in refreshed.stdout
    target = tmp_path / "gold.csv"
    assert run("segments", "export", "1", "--output", target, "--audience", "all").exit_code == 0
    with target.open() as handle:
        assert [row["external_id"] for row in csv.DictReader(handle)] == ["c1", "c2", "c9"]
    everything = run("segments", "refresh")
    assert everything.exit_code == 0 and "New customers" in everything.stdout


def test_unknown_segment_is_one_error_line(run):
    result = run("segments", "count", "99")
    assert result.exit_code == 2
    assert "error: segment 99 does not exist" in result.output
