"""Commands of journeys: `patron journeys list|playbooks|playbook NAME`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from patron.db import transaction, utcnow
from patron.journeys import playbooks, service
from patron.runtime import open_runtime, run_cli

journeys_app = typer.Typer(help="Journeys: list, playbooks.", no_args_is_help=True)


@journeys_app.command("list")
def list_command(limit: int = typer.Option(100, min=1, max=500)) -> None:
    """Journeys with their state, version and enrolments by state."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            found = service.list_journeys(session=session, limit=limit)
            counts = service.counts(session=session, journey_ids=[j.id for j in found])
            return [(j.id, j.name, j.state, j.current_version_id, counts[j.id]) for j in found]

    table = Table("id", "name", "state", "version id", "enrolments")
    for id_, name, state, version, by_state in run_cli(rows):
        summary = ", ".join(f"{k} {v}" for k, v in sorted(by_state.items())) or "none"
        table.add_row(str(id_), name, state, str(version or ""), summary)
    Console().print(table)


@journeys_app.command("playbooks")
def playbooks_command() -> None:
    """Playbooks: who each serves and the journey it installed, if any."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            return playbooks.listing(session=session)

    table = Table("name", "title", "serves", "journey id")
    for p in run_cli(rows):
        table.add_row(p["name"], p["title"], p["serves"], str(p["journey_id"] or ""))
    Console().print(table)


@journeys_app.command("playbook")
def playbook_command(name: str = typer.Argument(..., help="The playbook's name.")) -> None:
    """Install a playbook as a paused journey (installed before: the same journey)."""
    runtime = open_runtime()

    def install():
        with transaction(runtime.sessions) as session:
            journey, created = playbooks.install(session=session, name=name, now=utcnow())
            return journey.id, journey.state, created

    journey_id, state, created = run_cli(install)
    verb = "installed" if created else "already installed as"
    typer.echo(f"playbook {name} {verb} journey {journey_id} ({state})")


def register(app: typer.Typer) -> None:
    """Add the `journeys` command group."""
    app.add_typer(journeys_app, name="journeys")
