"""Commands of reviews: `patron reviews queue|approve|reject|send-due`."""

from __future__ import annotations

import typer

from patron.db import transaction, utcnow
from patron.reviews import service
from patron.runtime import open_runtime, run_cli

reviews_app = typer.Typer(help="Product reviews: requests and moderation.", no_args_is_help=True)


@reviews_app.command("queue")
def queue_command(
    state: str = typer.Option("pending", help="pending, approved or rejected."),
) -> None:
    """List reviews in a moderation state."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as s:
        for r in service.queue(session=s, state=state):
            flag = "verified" if r.verified else "unverified"
            typer.echo(f"{r.id}\t{r.sku}\t{r.rating}\t{flag}\t{r.title}")


def _decide(review_id: int, action: str, reason: str | None) -> None:
    runtime = open_runtime()

    def run():
        with transaction(runtime.sessions) as s:
            return service.moderate(
                session=s, review_id=review_id, action=action, reason=reason, now=utcnow()
            ).state

    typer.echo(f"review {review_id} {run_cli(run)}")


@reviews_app.command("approve")
def approve_command(review_id: int) -> None:
    """Approve a review (it is shown; its first approval earns loyalty points)."""
    _decide(review_id, "approve", None)


@reviews_app.command("reject")
def reject_command(review_id: int, reason: str = typer.Option("", help="Why.")) -> None:
    """Reject a review."""
    _decide(review_id, "reject", reason)


@reviews_app.command("send-due")
def send_due_command() -> None:
    """Mail the review requests that are due now (the worker does it every 15 minutes)."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as s:
        typer.echo(service.send_due(session=s, now=utcnow()))


def register(app: typer.Typer) -> None:
    """Add the `reviews` command group."""
    app.add_typer(reviews_app, name="reviews")
