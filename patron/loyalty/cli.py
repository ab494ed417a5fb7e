"""Commands of loyalty: `patron loyalty maintain|liability|adjust|summary`."""

from __future__ import annotations

import json

import typer

from patron.customers import service as customers
from patron.db import transaction, utcnow
from patron.errors import NotFound
from patron.loyalty import maintain, reports, service
from patron.runtime import open_runtime, run_cli

loyalty_app = typer.Typer(help="Loyalty: points, tiers and rewards.", no_args_is_help=True)


def _customer_id(session, external_id: str) -> int:
    """The id of a customer by external id, or NotFound."""
    found = customers.find_customer(session=session, external_id=external_id)
    if found is None:
        raise NotFound(f"no customer {external_id!r}")
    return found.id


@loyalty_app.command("maintain")
def maintain_command() -> None:
    """Release, expire, warn of expiry, review tiers and give birthday bonuses now."""
    runtime = open_runtime()

    def run():
        with transaction(runtime.sessions) as session:
            return maintain.run(session=session, now=utcnow())

    typer.echo(json.dumps(run_cli(run)))


@loyalty_app.command("liability")
def liability_command() -> None:
    """Print outstanding points, their value and expiry by month."""
    runtime = open_runtime()

    def run():
        with transaction(runtime.sessions) as session:
            return reports.liability(session=session, now=utcnow())

    typer.echo(json.dumps(run_cli(run)))


@loyalty_app.command("adjust")
def adjust_command(
    external_id: str,
    points: int,
    reason: str = typer.Option(..., "--reason", help="Why (kept on the ledger entry)."),
) -> None:
    """Add (positive) or remove (negative) a member's points."""
    runtime = open_runtime()

    def run():
        with transaction(runtime.sessions) as session:
            cid = _customer_id(session, external_id)
            service.adjust(
                session=session, customer_id=cid, points=points, reason=reason, now=utcnow()
            )
            return reports.summary(session=session, customer_id=cid, now=utcnow())["balance"]

    typer.echo(f"balance {run_cli(run)}")


@loyalty_app.command("summary")
def summary_command(external_id: str) -> None:
    """Print a member's summary as JSON."""
    runtime = open_runtime()

    def run():
        with transaction(runtime.sessions) as session:
            cid = _customer_id(session, external_id)
            return reports.summary(session=session, customer_id=cid, now=utcnow())

    typer.echo(json.dumps(run_cli(run), default=str))


def register(app: typer.Typer) -> None:
    """Add the `loyalty` command group."""
    app.add_typer(loyalty_app, name="loyalty")
