"""CLI of jobs: `patron worker` and `patron jobs status`."""

from __future__ import annotations

import logging

import typer

from patron import worker
from patron.db import transaction
from patron.jobs import service as jobs
from patron.runtime import fail, open_runtime


def _parse_handlers(pairs: list[str]) -> dict[str, str]:
    """Parse kind=module:function pairs given on the command line."""
    handlers: dict = dict(worker.registered_handlers())
    for pair in pairs:
        kind, sep, target = pair.partition("=")
        if not sep or ":" not in target:
            raise fail(f"--handler must be kind=module:function, got {pair!r}", 2)
        handlers[kind] = target
    return handlers


def register(app: typer.Typer) -> None:
    """Add the worker and job commands to the CLI."""
    jobs_app = typer.Typer(help="Durable jobs.", no_args_is_help=True)
    app.add_typer(jobs_app, name="jobs")

    @app.command("worker")
    def run_worker(
        poll: float = typer.Option(1.0, help="Seconds between polls when idle."),
        exit_when_idle: int = typer.Option(0, help="Stop after this many idle polls (0: never)."),
        worker_id: str = typer.Option("", help="Name of this worker (default host:pid)."),
        handler: list[str] = typer.Option([], help="Extra kind=module:function handlers."),
    ) -> None:
        """Run durable jobs as they fall due, such as the scheduled score refresh."""
        runtime = open_runtime()
        logging.basicConfig(level=runtime.settings.log_level.upper())
        worker.run_forever(
            runtime.sessions,
            runtime.settings,
            worker_id=worker_id or worker.default_worker_id(),
            handlers=_parse_handlers(handler),
            poll_seconds=poll,
            max_idle_polls=exit_when_idle or None,
        )

    @jobs_app.command("status")
    def status() -> None:
        """Show how many jobs are in each state."""
        runtime = open_runtime()
        with transaction(runtime.sessions) as session:
            for state, count in sorted(jobs.counts(session=session).items()):
                typer.echo(f"{state}\t{count}")
