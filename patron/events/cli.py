"""CLI of the event log: `patron events status` and `patron events retry NAME`."""

from __future__ import annotations

import typer

from patron.db import transaction
from patron.events import service
from patron.manifest import installed
from patron.runtime import fail, open_runtime

events_app = typer.Typer(help="Domain events and their consumers.", no_args_is_help=True)


@events_app.command("status")
def status() -> None:
    """Show each consumer's handled and pending events, and its failure if failing."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        rows = service.status(session=session, consumers=installed().consumers())
    typer.echo("consumer\thandled\tpending\tstate")
    for row in rows:
        state = "ok" if not row.failures else f"failing x{row.failures}: {row.last_error}"
        typer.echo(f"{row.name}\t{row.handled}\t{row.pending}\t{state}")


@events_app.command("retry")
def retry(name: str) -> None:
    """Let a failing consumer try again now instead of after its back-off."""
    if name not in installed().consumers():
        raise fail(f"no consumer called {name!r}", 2)
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        service.reset_backoff(session=session, name=name)
    typer.echo(f"consumer {name} retries at the next poll")


def register(app: typer.Typer) -> None:
    """Add the `events` command group."""
    app.add_typer(events_app, name="events")
