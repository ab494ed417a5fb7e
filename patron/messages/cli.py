"""Commands of messages: `test --to`, `inbound-url`, `inbound-smtp --port` (DSN receiver)."""

from __future__ import annotations

import secrets
import time

import typer

from patron.db import transaction, utcnow
from patron.messages import bounces, broadcasts_cli, channels, config, inbound, service
from patron.runtime import fail, open_runtime, run_cli

messages_app = typer.Typer(help="Messages: templates, test sends.", no_args_is_help=True)


@messages_app.command("test")
def test_command(
    template: int = typer.Option(..., "--template", help="Template id."),
    to: str = typer.Option(..., "--to", help="Address to send the test to."),
    customer: int | None = typer.Option(
        None, "--customer", help="Render with this customer's data (default: the first one)."
    ),
) -> None:
    """Render a template and send it once to an address through the configured channel."""
    if "@" not in to:
        raise fail("--to must be an email address", 2)
    runtime = open_runtime()
    settings = config.from_env(runtime.settings.secret_key)

    def render():
        with transaction(runtime.sessions) as session:
            found = service.get_template(session=session, template_id=template)
            rendered = service.render_for(
                session=session, template_id=template, customer_id=customer
            )
            return found.kind, rendered

    kind, rendered = run_cli(render)
    envelope = channels.Envelope(
        to=to,
        subject=f"[test] {rendered.subject}",
        html=rendered.html,
        text=rendered.text,
        message_id=f"<test.{secrets.token_hex(8)}@{settings.domain}>",
        customer_id=customer or 0,
        kind=kind,
        preheader=rendered.preheader,
    )
    sender = channels.open_sender(settings, "email", sessions=runtime.sessions, clock=utcnow)
    try:
        outcome = sender.send(envelope)
    finally:
        sender.close()
    if outcome.kind != "sent":
        raise fail(f"not sent ({outcome.kind}): {outcome.detail}", 1)
    where = "the mailbox (/messages/mailbox)" if settings.email_channel == "capture" else to
    typer.echo(f"sent {envelope.message_id} to {where}: {outcome.detail}")


@messages_app.command("inbound-url")
def inbound_url_command(
    provider: str = typer.Option("generic", "--provider", help="generic, ses, postmark or dsn."),
) -> None:
    """Print the URL a provider posts bounces and complaints to (it holds a signed key)."""
    if provider not in bounces.PROVIDERS:
        raise fail(f"--provider must be one of {', '.join(bounces.PROVIDERS)}", 2)
    runtime = open_runtime()
    settings = config.from_env(runtime.settings.secret_key)
    typer.echo(inbound.inbound_url(settings.public_url, settings.secret_key, provider))


@messages_app.command("inbound-smtp")
def inbound_smtp_command(
    port: int = typer.Option(2525, "--port", help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
) -> None:
    """Receive delivery status notifications over SMTP until interrupted."""
    from patron.messages import inbound_smtp

    if not 0 < port < 65536:
        raise fail("--port must be between 1 and 65535", 2)
    runtime = open_runtime()
    controller = inbound_smtp.receiver(runtime.sessions, utcnow, host=host, port=port)
    try:
        controller.start()
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc}", 1)
    typer.echo(f"receiving delivery status notifications on {host}:{port}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def register(app: typer.Typer) -> None:
    """Add the `messages` command group."""
    app.add_typer(messages_app, name="messages")
    app.add_typer(broadcasts_cli.broadcasts_app, name="broadcasts")
