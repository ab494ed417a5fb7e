"""`patron coupons list|generate|export` and `patron referrals leaderboard|qualify`."""

from __future__ import annotations

from typer.testing import CliRunner

from patron.cli import app
from patron.coupons import service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from tests.coupons.conftest import T0


def test_cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'patron.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        service.create_campaign(
            session=s,
            name="VIP",
            kind="unique",
            code=None,
            discount_type="percent",
            percent=5,
            now=T0,
        )
    engine.dispose()
    env = {"PATRON_DATABASE_URL": url, "PATRON_SECRET_KEY": "x"}

    def run(*args):
        return CliRunner().invoke(app, [str(a) for a in args], env=env)

    made = run("coupons", "generate", 1, "--count", 40, "--prefix", "cli")
    assert made.exit_code == 0 and "40 codes added" in made.stdout
    assert "1\tVIP\tunique\t40\t0/-" in run("coupons", "list").stdout
    exported = run("coupons", "export", 1).stdout.strip().splitlines()
    assert len(exported) == 41 and exported[1].startswith("CLI")
    bad = run("coupons", "generate", 9, "--count", 1)
    assert bad.exit_code == 2 and "campaign 9 does not exist" in bad.output
    assert run("referrals", "qualify").stdout.strip() == "0 referrals qualified"
    assert run("referrals", "leaderboard").stdout.startswith("rank\tcustomer")
