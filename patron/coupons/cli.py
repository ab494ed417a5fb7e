"""Commands of coupons: `patron coupons list|generate|export`."""

from __future__ import annotations

import csv
import sys

import typer

from patron.coupons import service
from patron.db import transaction, utcnow
from patron.runtime import open_runtime, run_cli

coupons_app = typer.Typer(help="Coupons: campaigns and code batches.", no_args_is_help=True)


@coupons_app.command("list")
def list_command() -> None:
    """List campaigns with their codes and redemptions."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        for row in service.list_campaigns(session=session):
            c = row["campaign"]
            limit = c.total_limit if c.total_limit is not None else "-"
            typer.echo(f"{c.id}\t{c.name}\t{c.kind}\t{row['codes']}\t{c.redeemed_count}/{limit}")


@coupons_app.command("generate")
def generate_command(
    campaign: int,
    count: int = typer.Option(..., "--count", help="Codes to add (1 to 1,000,000)."),
    prefix: str = typer.Option("", help="Letters put before each code."),
) -> None:
    """Add a batch of unique codes to a campaign (set-based)."""
    runtime = open_runtime()

    def generate():
        with transaction(runtime.sessions) as session:
            return service.generate_batch(
                session=session, campaign_id=campaign, count=count, prefix=prefix, now=utcnow()
            )

    typer.echo(f"{run_cli(generate)} codes added to campaign {campaign}")


@coupons_app.command("export")
def export_command(campaign: int) -> None:
    """Write a campaign's codes as CSV to standard output."""
    runtime = open_runtime()

    def export():
        writer = csv.writer(sys.stdout)
        writer.writerow(["code", "customer_id", "redeemed_count"])
        with transaction(runtime.sessions) as session:
            writer.writerows(service.export_codes(session=session, campaign_id=campaign))

    run_cli(export)


def register(app: typer.Typer) -> None:
    """Add the `coupons` command group."""
    app.add_typer(coupons_app, name="coupons")
