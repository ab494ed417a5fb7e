"""Commands of referrals: `patron referrals leaderboard|qualify`."""

from __future__ import annotations

import typer

from patron.db import transaction, utcnow
from patron.referrals import board, qualify
from patron.runtime import open_runtime, run_cli

referrals_app = typer.Typer(help="Referrals: the leaderboard, qualification.", no_args_is_help=True)


@referrals_app.command("leaderboard")
def leaderboard_command(limit: int = typer.Option(20, min=1, max=200)) -> None:
    """Print the top referrers by qualified referrals."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        typer.echo("rank\tcustomer\temail\tqualified\tpending")
        for r in board.leaderboard(session=session, limit=limit):
            row = (r["rank"], r["customer_id"], r["email"] or "", r["qualified"], r["pending"])
            typer.echo("\t".join(str(v) for v in row))


@referrals_app.command("qualify")
def qualify_command() -> None:
    """Qualify matured referrals now (the worker does it hourly)."""
    runtime = open_runtime()

    def run():
        with transaction(runtime.sessions) as session:
            return qualify.qualify_due(session=session, now=utcnow(), limit=100_000)

    typer.echo(f"{run_cli(run)} referrals qualified")


def register(app: typer.Typer) -> None:
    """Add the `referrals` command group."""
    app.add_typer(referrals_app, name="referrals")
