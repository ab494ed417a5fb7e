"""CLI of jobs: `patron worker` and `patron jobs status`."""

from __future__ import annotations

import logging

import typer

from patron.db import transaction, utcnow
from patron.jobs import service as jobs
from patron.jobs import worker
from patron.runtime import fail, open_runtime


def _parse_handlers(pairs: list[str]) -> dict:
    """The manifests' handlers plus kind=module:function pairs given on the command line."""
    handlers: dict = dict(worker.registered_handlers())
    for pair in pairs:
        kind, sep, target = pair.partition("=")
        if not sep or ":" not in target:
            raise fail(f"--handler must be kind=module:function, got {pair!r}", 2)
        handlers[kind] = target
    return handlers


def run_worker(
    poll: float = typer.Option(1.0, help="Seconds between polls when idle."),
    exit_when_idle: int = typer.Option(0, help="Stop after this many idle polls (0: never)."),
    worker_id: str = typer.Option("", help="Name of this worker (default host:pid)."),
    queue: list[str] = typer.Option(
        [], help="Run only these queues (default PATRON_WORKER_QUEUES)."
    ),
    handler: list[str] = typer.Option([], help="Extra kind=module:function handlers."),
) -> None:
    """Run durable jobs and event consumers as they fall due; run as many as you like."""
    runtime = open_runtime()
    logging.basicConfig(level=runtime.settings.log_level.upper())
    worker.run_forever(
        runtime.sessions,
        runtime.settings,
        worker_id=worker_id or worker.default_worker_id(),
        handlers=_parse_handlers(handler),
        poll_seconds=poll,
        max_idle_polls=exit_when_idle or None,
        queues=tuple(queue) or None,
    )


def _age(seconds: float | None) -> str:
    """A wait as the status table shows it."""
    if seconds is None:
        return "–"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def status() -> None:
    """Show jobs per queue and state, with the age of the oldest due job."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        rows = jobs.queue_status(session=session, now=utcnow())
    typer.echo("queue\tpending\trunning\tdone\tfailed\toldest pending")
    for row in rows:
        counts = "\t".join(
            str(row.states.get(s, 0)) for s in ("pending", "running", "done", "failed")
        )
        typer.echo(f"{row.queue}\t{counts}\t{_age(row.oldest_pending_seconds)}")
    if not rows:
        typer.echo("(no jobs)")


def register(app: typer.Typer) -> None:
    """Add the worker and job commands to the CLI."""
    jobs_app = typer.Typer(help="Durable jobs.", no_args_is_help=True)
    app.add_typer(jobs_app, name="jobs")
    app.command("worker")(run_worker)
    jobs_app.command("status")(status)
