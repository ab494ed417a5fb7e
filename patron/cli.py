"""The `patron` command: `serve`, `db upgrade`, and every capability's commands.

The full command (``app``) is built on first use: it boots every capability's manifest (FastAPI,
SQLAlchemy, templates), which took 2 s. `patron analyze FILE` needs none of that (a file in, a
report out, no database), so ``main`` builds a command of just that one for it.
"""

from __future__ import annotations

import sys
from functools import cache

import typer

from patron.errors import PatronError

HELP = "Patron: self-hosted customer marketing."


def _new_app() -> typer.Typer:
    return typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False)


def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from patron.runtime import open_runtime

    runtime = open_runtime(migrate=True)
    typer.echo(f"database at {runtime.engine.url.render_as_string()} is up to date")


def serve(
    host: str = typer.Option(None, help="Overrides PATRON_HOST."),
    port: int = typer.Option(None, help="Overrides PATRON_PORT."),
    workers: int = typer.Option(1, help="Web server processes."),
) -> None:
    """Run migrations, then serve the dashboard and the APIs."""
    import uvicorn

    from patron.runtime import open_runtime

    runtime = open_runtime()
    runtime.engine.dispose()
    uvicorn.run(
        "patron.asgi:app",
        host=host or runtime.settings.host,
        port=port or runtime.settings.port,
        workers=workers,
        log_level=runtime.settings.log_level,
        access_log=False,
    )


@cache
def full_app() -> typer.Typer:
    """Every command: the kernel's and each capability's (booting the manifests)."""
    from patron.capabilities import boot

    app = _new_app()
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
    db_app.command("upgrade")(db_upgrade)
    app.add_typer(db_app, name="db")
    app.command()(serve)
    for capability in boot().manifests:
        if capability.commands:
            capability.commands(app)
    return app


def analyze_app() -> typer.Typer:
    """Only `patron analyze` (same options and help), without booting any manifest."""
    from patron.analytics.cli import analyze_command

    app = _new_app()
    app.callback()(lambda: None)  # a group, so the command is still invoked as `analyze`
    app.command("analyze")(analyze_command)
    return app


def __getattr__(name: str):
    """``patron.cli.app``: the full command, built on first access."""
    if name == "app":
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the console script: errors end in one line and a non-zero exit."""
    app = analyze_app() if sys.argv[1:2] == ["analyze"] else full_app()
    try:
        app()
    except PatronError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise SystemExit(2)
    except Exception as exc:
        from sqlalchemy.exc import OperationalError

        if not isinstance(exc, OperationalError):
            raise
        reason = str(exc.orig).splitlines()[0]
        typer.secho(f"error: database unavailable: {reason}", fg=typer.colors.RED, err=True)
        raise SystemExit(2)
