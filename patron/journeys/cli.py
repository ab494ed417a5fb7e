"""Commands of journeys: `patron journeys list|dry-run|report|playbooks|playbook NAME`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from patron.db import transaction, utcnow
from patron.journeys import playbooks, report, service
from patron.runtime import open_runtime, run_cli

journeys_app = typer.Typer(help="Journeys: list, dry-run, report, playbooks.", no_args_is_help=True)


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


def _funnel_table(title: str, funnel: dict) -> Table:
    """One funnel as a table: each step's reach, outcomes and messages."""
    table = Table("step", "type", "reached", "%", "outcomes", "sent", "delivered", "clicked")
    table.title = title
    for row in funnel["steps"]:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))
        m = row["messages"]
        sends = [str(m[k]) for k in ("sent", "delivered", "clicked")] if m else ["", "", ""]
        table.add_row(
            row["id"], row["type"] or "", str(row["reached"]), str(row["percent"]), outcomes, *sends
        )
    return table


def _summary(funnel: dict) -> str:
    """Entered, converted, revenue, exits and failures on one line."""
    exited = ", ".join(f"{k} {v}" for k, v in sorted(funnel["exited"].items())) or "none"
    return (
        f"entered {funnel['entered']}; converted {funnel['converted']}, "
        f"revenue {funnel['revenue_minor']} (minor units); exited: {exited}; "
        f"failed {funnel['failed']}"
    )


@journeys_app.command("report")
def report_command(
    journey_id: int = typer.Argument(..., min=1),
    versions: bool = typer.Option(False, "--versions", help="Also each version's funnel."),
) -> None:
    """A journey's funnel: entered, each step, messages, converted, revenue, exits."""
    runtime = open_runtime()

    def result():
        with transaction(runtime.sessions) as session:
            return report.report(session=session, journey_id=journey_id)

    found = run_cli(result)
    console = Console()
    console.print(f"{found['name']} ({found['state']}), all versions")
    console.print(_funnel_table("all versions", found["total"]))
    console.print(_summary(found["total"]))
    for reason, n in sorted(found["total"]["failed_reasons"].items()):
        console.print(f"failed: {reason} ({n})")
    if versions:
        for v in found["versions"]:
            console.print(_funnel_table(f"version {v['number']}", v))
            console.print(f"version {v['number']}: {_summary(v)}")


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
