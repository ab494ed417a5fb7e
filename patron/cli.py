"""The `patron` command: `serve`, `db upgrade`, and every capability's commands."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError

from patron.capabilities import boot
from patron.errors import PatronError
from patron.runtime import open_runtime

app = typer.Typer(
    help="Patron: self-hosted customer marketing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    runtime = open_runtime(migrate=True)
    typer.echo(f"database at {runtime.engine.url.render_as_string()} is up to date")


@app.command()
def serve(
    host: str = typer.Option(None, help="Overrides PATRON_HOST."),
    port: int = typer.Option(None, help="Overrides PATRON_PORT."),
    workers: int = typer.Option(1, help="Web server processes."),
) -> None:
    """Run migrations, then serve the dashboard and the APIs."""
    import uvicorn

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


for _capability in boot().manifests:
    if _capability.commands:
        _capability.commands(app)


def main() -> None:
    """Entry point of the console script: errors end in one line and a non-zero exit."""
    try:
        app()
    except PatronError as exc:
        typer.secho(f"error: {exc.message}", fg=typer.colors.RED, err=True)
        raise SystemExit(2)
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0]
        typer.secho(f"error: database unavailable: {reason}", fg=typer.colors.RED, err=True)
        raise SystemExit(2)
