"""Commands of auth: `patron keys ...` and `patron users create`."""

from __future__ import annotations

import typer

from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.runtime import open_runtime, run_cli

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard users.", no_args_is_help=True)


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


def register(app: typer.Typer) -> None:
    """Add the key and user commands."""
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
