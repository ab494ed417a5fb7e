"""The `patron` command: server, database, keys, users, and every capability's commands."""

from __future__ import annotations

import importlib

import typer
from sqlalchemy.exc import OperationalError

from patron.auth import service as auth_service
from patron.customers import service as customers_service
from patron.db import transaction, utcnow
from patron.errors import PatronError
from patron.runtime import open_runtime, run_cli

app = typer.Typer(
    help="Patron: self-hosted customer marketing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)
stats_app = typer.Typer(help="Per-customer aggregates.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(stats_app, name="stats")

# Capability modules that add commands: each has `register(app: typer.Typer)`.
COMMAND_MODULES = (
    "patron.jobs.cli",
    "patron.demo.cli",
    "patron.imports.cli",
    "patron.analytics.cli",
    "patron.segments.cli",
)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    runtime = open_runtime(migrate=True)
    typer.echo(f"database at {runtime.engine.url.render_as_string()} is up to date")


@stats_app.command("rebuild")
def stats_rebuild() -> None:
    """Recompute every customer's aggregates from orders and events."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        count = customers_service.rebuild_stats(session)
    typer.echo(f"rebuilt aggregates of {count} customers")


@keys_app.command("create")
def keys_create(
    name: str = typer.Option(..., help="What the key is for."),
    scopes: str = typer.Option("read", help="Comma-separated: read, write, admin, track."),
) -> None:
    """Create an API key and print it once."""
    runtime = open_runtime()

    def create():
        with transaction(runtime.sessions) as session:
            row, key = auth_service.create_key(
                session=session, name=name, scopes=scopes, now=utcnow()
            )
            return row.id, row.scopes, key

    key_id, granted, key = run_cli(create)
    typer.echo(f"key {key_id} ({granted}); store it now, it is not shown again:\n{key}")


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        for row in auth_service.list_keys(session=session):
            state = "revoked" if row.revoked_at else "active"
            typer.echo(f"{row.id}\t{row.name}\t{row.scopes}\tpat_{row.prefix}_…\t{state}")


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Revoke an API key."""
    runtime = open_runtime()

    def revoke():
        with transaction(runtime.sessions) as session:
            auth_service.revoke_key(session=session, key_id=key_id, now=utcnow())

    run_cli(revoke)
    typer.echo(f"key {key_id} revoked")


@users_app.command("create")
def users_create(
    email: str, password: str = typer.Option(..., prompt=True, hide_input=True)
) -> None:
    """Create a dashboard admin user."""
    runtime = open_runtime()

    def create():
        with transaction(runtime.sessions) as session:
            auth_service.create_user(session=session, email=email, password=password, now=utcnow())

    run_cli(create)
    typer.echo(f"user {email} created")


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


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


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
