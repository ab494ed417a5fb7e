"""Commands of gatherings: `patron gatherings list|create|invite|guests|attendance|remind`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from patron.db import transaction, utcnow
from patron.gatherings import rules, service
from patron.runtime import open_runtime, run_cli

app = typer.Typer(help="Appreciation events and webinars.", no_args_is_help=True)


@app.command("list")
def list_command() -> None:
    """List events: id, start, title, seats taken / capacity."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        for g in service.list_gatherings(session=session):
            seats = f"{g.going}/{g.capacity}" if g.capacity else f"{g.going}/-"
            typer.echo(f"{g.id}\t{g.starts_at.isoformat()}\t{g.title}\t{seats}")


@app.command("create")
def create_command(
    title: str,
    starts: datetime = typer.Option(..., help="Start, local time in --timezone."),
    ends: datetime = typer.Option(..., help="End, local time in --timezone."),
    timezone: str = typer.Option("UTC", help="IANA time zone, e.g. Europe/Paris."),
    online_url: str | None = typer.Option(None, help="The webinar's link."),
    place: str | None = typer.Option(None, help="Where it takes place."),
    capacity: int | None = typer.Option(None, help="Seats; more 'yes' answers wait on a list."),
    description: str = typer.Option("", help="What it is about."),
) -> None:
    """Create an event (with its invitation and reminder templates)."""
    runtime = open_runtime()
    data = rules.GatheringInput(
        title=title,
        starts_at=starts,
        ends_at=ends,
        timezone=timezone,
        online_url=online_url,
        place=place,
        capacity=capacity,
        description=description,
    )

    def create():
        with transaction(runtime.sessions) as session:
            return service.create_gathering(session=session, data=data, now=utcnow()).id

    typer.echo(f"gathering {run_cli(create)} created")


@app.command("invite")
def invite_command(gathering: int, segment: int = typer.Option(..., help="Segment id.")) -> None:
    """Invite a segment's members (each once) and queue their invitation email."""
    runtime = open_runtime()

    def invite():
        with transaction(runtime.sessions) as session:
            return service.invite_segment(
                session=session, gathering_id=gathering, segment_id=segment, now=utcnow()
            )

    typer.echo(f"{run_cli(invite)} invited")


@app.command("guests")
def guests_command(gathering: int) -> None:
    """List an event's guests: customer id, email, status, attended."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            service.get_gathering(session=session, gathering_id=gathering)
            return service.guests(session=session, gathering_id=gathering)

    for row in run_cli(rows):
        there = row["attended_at"].isoformat() if row["attended_at"] else "-"
        typer.echo(f"{row['customer_id']}\t{row['email'] or ''}\t{row['status']}\t{there}")


@app.command("attendance")
def attendance_command(
    gathering: int, csv_file: Path = typer.Argument(..., exists=True, dir_okay=False)
) -> None:
    """Import attendance from a CSV with an `email` or `external_id` column."""
    runtime = open_runtime()

    def load():
        text = csv_file.read_text(encoding="utf-8")
        with transaction(runtime.sessions) as session:
            return service.import_attendance(
                session=session, gathering_id=gathering, csv_text=text, source="csv", now=utcnow()
            )

    result = run_cli(load)
    typer.echo(
        f"{result['recorded']} recorded, {result['matched']} matched of {result['rows']} rows"
        + (f"; unmatched: {', '.join(result['unmatched'])}" if result["unmatched"] else "")
    )


@app.command("remind")
def remind_command() -> None:
    """Queue the due reminders now (the worker does it every 5 minutes)."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        typer.echo(f"{service.send_reminders(session=session, now=utcnow())} reminders queued")


def register(root: typer.Typer) -> None:
    """Add the `gatherings` command group."""
    root.add_typer(app, name="gatherings")
