"""Commands of segments: `patron segments list|count|export|refresh`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from patron.db import transaction, utcnow
from patron.runtime import open_runtime, run_cli
from patron.segments import exports, service
from patron.segments.audience import (
    CHANNELS,
    DEFAULT_AUDIENCE,
    DEFAULT_CHANNEL,
    Audience,
    audience_of,
)
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
    channel: str = typer.Option(
        DEFAULT_CHANNEL, "--channel", help=f"Consent channel: {', '.join(CHANNELS)}."
    ),
    audience: str = typer.Option(
        DEFAULT_AUDIENCE,
        "--audience",
        help="contactable (consent granted on the channel), all, or not_contactable.",
    ),
) -> None:
    """Write a segment's members as CSV with their consent; by default only those who may
    be contacted on the channel. A summary line goes to stderr."""
    runtime = open_runtime()

    def export() -> str:
        chosen = audience_of(channel, audience)
        with transaction(runtime.sessions) as session:
            counts = exports.audience_counts(session=session, segment_id=segment_id)
            chunks = exports.export_csv(session=session, segment_id=segment_id, audience=chosen)
            if output is None:
                for chunk in chunks:
                    sys.stdout.write(chunk)
            else:
                with output.open("w", newline="") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
        return _summary(segment_id, chosen, counts)

    typer.echo(run_cli(export), err=True)


def _summary(segment_id: int, chosen: Audience, counts: dict) -> str:
    """The line saying how many members the file holds, and which ones."""
    rows, members = chosen.rows_in(counts), counts["members"]
    return (
        f"segment {segment_id}: exported {rows:,} of {members:,} members: {chosen.describe()} "
        f"(--audience {chosen.audience} --channel {chosen.channel})"
    )


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
