"""Commands of segments: `patron segments list|count|export|refresh`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from patron.db import transaction, utcnow
from patron.runtime import open_runtime, run_cli
from patron.segments import service
from patron.segments.catalogue import members_text

segments_app = typer.Typer(
    help="Segments: saved audiences and their members.", no_args_is_help=True
)


@segments_app.command("list")
def list_command() -> None:
    """List segments with their stored member counts."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        service.ensure_builtin_segments(session=session, now=utcnow())
        for row in service.list_segments(session=session):
            refreshed = (
                row.refreshed_at.isoformat(timespec="seconds") if row.refreshed_at else "never"
            )
            typer.echo(f"{row.id}\t{row.name}\t{row.member_count:,}\trefreshed {refreshed}")


@segments_app.command("count")
def count_command(segment_id: int) -> None:
    """Count the customers matching a segment's rules right now."""
    runtime = open_runtime()

    def count() -> int:
        with transaction(runtime.sessions) as session:
            row = service.get_segment(session=session, segment_id=segment_id)
            return service.count(session=session, rules_json=row.rules, now=utcnow())

    typer.echo(run_cli(count))


@segments_app.command("export")
def export_command(
    segment_id: int,
    output: Path = typer.Option(
        None, "--output", "-o", help="CSV file to write; stdout when omitted."
    ),
) -> None:
    """Write a segment's stored members as CSV."""
    runtime = open_runtime()

    def export() -> None:
        with transaction(runtime.sessions) as session:
            chunks = service.export_csv(session=session, segment_id=segment_id)
            if output is None:
                for chunk in chunks:
                    sys.stdout.write(chunk)
                return
            with output.open("w", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)

    run_cli(export)


@segments_app.command("refresh")
def refresh_command(
    segment_id: int = typer.Argument(None, help="One segment; all when omitted."),
) -> None:
    """Recompute stored members (and record entries and exits) now."""
    runtime = open_runtime()

    def refresh() -> list[dict]:
        with transaction(runtime.sessions) as session:
            if segment_id is None:
                return service.recompute_all(session=session, now=utcnow())
            return [service.refresh_segment(session=session, segment_id=segment_id, now=utcnow())]

    for row in run_cli(refresh):
        typer.echo(
            f"{row['id']}\t{row['name']}\t{members_text(row['members'])}\t"
            f"+{row['entered']} -{row['exited']}"
        )


def register(app: typer.Typer) -> None:
    """Add the `segments` command group."""
    app.add_typer(segments_app, name="segments")
