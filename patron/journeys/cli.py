"""Commands of journeys: `patron journeys list|dry-run`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from patron.db import transaction, utcnow
from patron.journeys import service
from patron.runtime import open_runtime, run_cli

journeys_app = typer.Typer(help="Journeys: list, dry-run.", no_args_is_help=True)


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


@journeys_app.command("dry-run")
def dry_run_command(
    journey_id: int = typer.Argument(..., min=1),
    days: int = typer.Option(30, min=1, max=365, help="The window: the last N days."),
) -> None:
    """What a journey would have done over the last N days (nothing is sent or written)."""
    runtime = open_runtime()

    def result():
        with transaction(runtime.sessions) as session:
            return service.dry_run(session=session, now=utcnow(), days=days, journey_id=journey_id)

    found = run_cli(result)
    console = Console()
    console.print(
        f"{found['entered']} would have entered over {found['days']} days "
        f"({found['customers']} customers considered, at most {found['max_customers']}); "
        f"{found['converted']} converted, revenue {found['revenue_minor']} (minor units)"
    )
    table = Table("step", "type", "reached", "outcomes")
    for step in found["steps"]:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(step["outcomes"].items()))
        table.add_row(step["id"], step["type"], str(step["reached"]), outcomes)
    console.print(table)
    sends = Table("step", "template", "messages", "sample customers")
    for m in found["messages"]:
        sample = ", ".join(map(str, m["sample"]))
        sends.add_row(m["step"], m["template"] or str(m["template_id"]), str(m["count"]), sample)
    console.print(sends)
    ends = ", ".join(f"{k} {v}" for k, v in found["finished"].items()) or "none"
    console.print(f"finished: {ends}")
    for note in found["notes"]:
        console.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    """Add the `journeys` command group."""
    app.add_typer(journeys_app, name="journeys")
