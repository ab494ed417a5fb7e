"""Commands of customer data: `patron stats rebuild`."""

from __future__ import annotations

import typer

from patron.customers import service as customers_service
from patron.db import transaction
from patron.runtime import open_runtime

stats_app = typer.Typer(help="Per-customer aggregates.", no_args_is_help=True)


@stats_app.command("rebuild")
def stats_rebuild() -> None:
    """Recompute every customer's aggregates from orders and events."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        count = customers_service.rebuild_stats(session)
    typer.echo(f"rebuilt aggregates of {count} customers")


def register(app: typer.Typer) -> None:
    """Add the `stats` command group."""
    app.add_typer(stats_app, name="stats")
