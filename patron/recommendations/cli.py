"""Commands of recommendations: `patron recommendations train|evaluate|show|report`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from patron.db import transaction, utcnow
from patron.recommendations import service
from patron.runtime import open_runtime, run_cli

recs_app = typer.Typer(help="Recommendations: train, evaluate, inspect.", no_args_is_help=True)


@recs_app.command("train")
def train_command() -> None:
    """Train every kind now and store a new version (a failure keeps the previous serving)."""
    runtime = open_runtime()
    version = run_cli(lambda: service.train(sessions=runtime.sessions, now=utcnow()))
    if version.state != "ready":
        typer.echo(f"version {version.id} failed: {version.error}", err=True)
        raise typer.Exit(1)
    stats = version.stats
    typer.echo(
        f"version {version.id} ready: {stats.get('customers')} customers, "
        f"{stats.get('products')} products, {stats.get('lists')} lists in {stats.get('seconds')}s"
    )


@recs_app.command("evaluate")
def evaluate_command(
    test_days: int = typer.Option(30, help="Train before the last N days, test on them."),
    max_users: int = typer.Option(20000, help="Test customers sampled at most."),
) -> None:
    """Evaluate every kind on a time split: hit-rate@10, NDCG@10, coverage, vs popularity."""
    runtime = open_runtime()
    result = run_cli(
        lambda: service.run_evaluation(
            sessions=runtime.sessions, now=utcnow(), test_days=test_days, max_users=max_users
        )
    )
    table = Table(
        title=f"Recommendations on {result.users} customers after {result.cutoff:%Y-%m-%d}"
    )
    for column in ("kind", "hit-rate@10", "NDCG@10", "coverage", "vs popular"):
        table.add_column(column)
    for row in result.rows:
        ratio = row["vs_popular"]
        table.add_row(
            row["kind"],
            f"{row['hit_rate']:.3f}",
            f"{row['ndcg']:.3f}",
            f"{row['coverage']:.1%}",
            "-" if ratio is None else f"{ratio:.2f}x",
        )
    Console().print(table)


@recs_app.command("show")
def show_command(
    customer: int = typer.Argument(..., help="Customer id."),
    kind: str = typer.Option("personal", help="personal, cross_sell, up_sell, down_sell, popular."),
    n: int = typer.Option(10, help="How many."),
) -> None:
    """Print a customer's recommendations of a kind."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            result = service.for_customer(session=session, customer_id=customer, kind=kind, n=n)
            return result.fallback, [(i.sku, i.name, i.price_cents) for i in result.items]

    fallback, items = run_cli(rows)
    if fallback:
        typer.echo("(popular fallback: no history)")
    for sku, name, price in items:
        typer.echo(f"{sku}\t{name}\t{price}")


@recs_app.command("report")
def report_command() -> None:
    """Print recommendation click-through and attributed revenue per kind."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            return service.report(session=session)

    typer.echo("kind\tshown\tclicks\tclick-through\torders\trevenue_cents")
    for r in run_cli(rows):
        ctr = "-" if r.click_through is None else f"{r.click_through:.1%}"
        typer.echo(f"{r.kind}\t{r.shown}\t{r.clicks}\t{ctr}\t{r.orders}\t{r.revenue_cents}")


def register(app: typer.Typer) -> None:
    """Add the `recommendations` command group."""
    app.add_typer(recs_app, name="recommendations")
