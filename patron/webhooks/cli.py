"""Commands of webhooks: `patron webhooks list|create|deliveries`."""

from __future__ import annotations

import typer

from patron.db import transaction, utcnow
from patron.runtime import open_runtime, run_cli
from patron.webhooks import service

webhooks_app = typer.Typer(help="Webhooks: endpoints and their deliveries.", no_args_is_help=True)


@webhooks_app.command("list")
def list_command() -> None:
    """List endpoints with their state and subscribed events."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        for e in service.list_endpoints(session=session):
            state = "enabled" if e.enabled else f"disabled: {e.disabled_reason}"
            typer.echo(f"{e.id}\t{e.url}\t{','.join(e.event_types)}\t{state}")


@webhooks_app.command("create")
def create_command(
    url: str,
    events: str = typer.Option(..., "--events", help="Comma-separated event types."),
    description: str = typer.Option("", help="What the endpoint is for."),
) -> None:
    """Register an endpoint and print its signing secret once."""
    runtime = open_runtime()

    def create():
        with transaction(runtime.sessions) as session:
            endpoint = service.create_endpoint(
                session=session,
                url=url,
                event_types=events.split(","),
                description=description,
                now=utcnow(),
            )
            return endpoint.id, endpoint.secret

    endpoint_id, secret = run_cli(create)
    typer.echo(f"endpoint {endpoint_id} created; signing secret (shown once): {secret}")


@webhooks_app.command("deliveries")
def deliveries_command(
    endpoint: int | None = typer.Option(None, "--endpoint", help="Only this endpoint's."),
    state: str | None = typer.Option(None, help="pending, delivering, succeeded or failed."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many, newest first."),
) -> None:
    """List recent deliveries: state, attempts, last status and error."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            if endpoint is not None:
                service.get_endpoint(session=session, endpoint_id=endpoint)
            found = service.list_deliveries(
                session=session, endpoint_id=endpoint, state=state, limit=limit
            )
            return [
                (
                    d.id,
                    d.endpoint_id,
                    d.event_type,
                    d.state,
                    d.attempts,
                    d.last_status_code,
                    d.last_error or "",
                    d.delivery_id,
                )
                for d in found
            ]

    typer.echo("id\tendpoint\tevent\tstate\tattempts\tstatus\terror\twebhook-id")
    for row in run_cli(rows):
        typer.echo("\t".join("" if v is None else str(v) for v in row))


def register(app: typer.Typer) -> None:
    """Add the `webhooks` command group."""
    app.add_typer(webhooks_app, name="webhooks")
