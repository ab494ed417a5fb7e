"""Commands of broadcasts: `patron broadcasts send|list|report`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from patron.db import transaction, utcnow
from patron.messages import broadcast_report, broadcasts, config, report_chart
from patron.runtime import open_runtime, run_cli

broadcasts_app = typer.Typer(help="Broadcasts: send, list, report.", no_args_is_help=True)


@broadcasts_app.command("send")
def send_command(broadcast: int = typer.Argument(..., help="Broadcast id.")) -> None:
    """Start sending a draft or scheduled broadcast now (a second send changes nothing)."""
    runtime = open_runtime()
    senders = config.from_env(runtime.settings.secret_key).senders

    def start():
        with transaction(runtime.sessions) as session:
            started = broadcasts.start(
                session, broadcast_id=broadcast, now=utcnow(), senders=senders
            )
            row = broadcasts.get(session, broadcast_id=broadcast)
            return started, row.state, row.audience_size

    started, state, size = run_cli(start)
    if started:
        typer.echo(f"broadcast {broadcast}: sending to {size} recipients")
    else:
        typer.echo(f"broadcast {broadcast} is already {state}; nothing sent again")


@broadcasts_app.command("list")
def list_command(limit: int = typer.Option(50, min=1, max=500)) -> None:
    """Broadcasts, newest first."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            return [
                (b.id, b.name, b.state, b.audience_size, b.send_at)
                for b in broadcasts.list_broadcasts(session, limit=limit)
            ]

    table = Table("id", "name", "state", "audience", "send at")
    for id_, name, state, size, send_at in run_cli(rows):
        table.add_row(str(id_), name, state, str(size or ""), str(send_at or ""))
    Console().print(table)


@broadcasts_app.command("report")
def report_command(broadcast: int = typer.Argument(..., help="Broadcast id.")) -> None:
    """Audience, sent, delivered, skipped by reason, engagement, clicks per link, over time."""
    runtime = open_runtime()

    def build():
        with transaction(runtime.sessions) as session:
            row = broadcasts.get(session, broadcast_id=broadcast)
            return broadcast_report.report(session, broadcast=row)

    report = run_cli(build)
    console = Console()
    table = Table("measure", "value", title=f"Broadcast {broadcast}: {report['name']}")
    for key, value in report.items():
        if key in ("links", "timeline"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
        table.add_row(key, str(value))
    console.print(table)
    links = Table("link", "unique clickers", "human clicks", "bot clicks", title="Clicks per link")
    for link in report["links"]:
        links.add_row(
            link["url"], str(link["unique_clickers"]), str(link["clicks"]), str(link["bot_clicks"])
        )
    console.print(links)
    timeline = report["timeline"]
    over_time = Table(timeline["unit"], "sends", "opens", "clicks", title="Over time (UTC)")
    for row in timeline["buckets"]:
        if row["sends"] or row["opens"] or row["clicks"]:
            over_time.add_row(
                report_chart.label(timeline["unit"], row["start"]),
                *(str(row[k]) for k in ("sends", "opens", "clicks")),
            )
    console.print(over_time)
