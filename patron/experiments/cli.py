"""Commands of experiments: `patron experiments list|report|holdout`."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from patron.db import transaction, utcnow
from patron.experiments import service
from patron.runtime import open_runtime, run_cli

experiments_app = typer.Typer(help="Experiments and holdouts.", no_args_is_help=True)


@experiments_app.command("list")
def list_command() -> None:
    """List experiments with their state and winner."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as session:
        for e in service.list_experiments(session):
            typer.echo(f"{e.id}\t{e.kind}\t{e.state}\t{e.winner or '-'}\t{e.name}")


def _money(cents: float) -> str:
    """Minor units as major with two decimals."""
    return f"{cents / 100:,.2f}"


def print_report(result: dict, console: Console) -> None:
    """The arms table, the comparisons and the verdict."""
    table = Table(title=result["experiment"]["name"])
    for column in (
        "arm",
        "recipients",
        "revenue/recipient",
        "orders/recipient",
        "conversion",
        "clicks",
        "unsubscribes",
        "complaints",
    ):
        table.add_column(column, justify="left" if column == "arm" else "right")
    for a in result["arms"]:
        table.add_row(
            a["key"],
            f"{a['recipients']:,}",
            _money(a["revenue_per_recipient"]),
            f"{a['orders_per_recipient']:.3f}",
            f"{a['converted_rate']:.2%}",
            f"{a['clicked_rate']:.2%}",
            f"{a['unsubscribed_rate']:.2%}",
            f"{a['complained_rate']:.2%}",
        )
    console.print(table)
    for c in result["comparisons"]:
        r = c["revenue"]
        console.print(
            f"{c['key']} vs control: revenue/recipient {_money(r['diff'])} "
            f"(95% CI {_money(r['low'])} to {_money(r['high'])}), p={r['p']:.3g}, "
            f"Holm p={c['p_holm']:.3g}"
        )
    inc = result["incrementality"]
    if inc:
        console.print(
            f"incremental revenue vs holdout: {_money(inc['total'])} "
            f"(95% CI {_money(inc['total_low'])} to {_money(inc['total_high'])})"
        )
    if result["srm"]["mismatch"]:
        console.print(f"WARNING: sample ratio mismatch (p={result['srm']['p']:.2g})")
    console.print(f"verdict: {result['verdict']['text']}")


@experiments_app.command("report")
def report_command(experiment_id: int) -> None:
    """Print an experiment's arms, metrics, intervals and verdict."""
    runtime = open_runtime()

    def build():
        with transaction(runtime.sessions) as session:
            return service.report(session, experiment_id=experiment_id, now=utcnow())

    print_report(run_cli(build), Console(width=120))


@experiments_app.command("holdout")
def holdout_command(days: int = typer.Option(30, help="Days of revenue compared.")) -> None:
    """What the whole programme adds against the global holdout."""
    runtime = open_runtime()

    def build():
        with transaction(runtime.sessions) as session:
            return service.global_report(session, now=utcnow(), days=days)

    result = run_cli(build)
    inc = result["incrementality"]
    if inc is None:
        typer.echo("no global holdout: set PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT")
        return
    typer.echo(
        f"{inc['holdout']:,} held out, {inc['treated']:,} messaged over {days} days: "
        f"{_money(inc['per_recipient'])} per customer "
        f"(95% CI {_money(inc['low'])} to {_money(inc['high'])}), "
        f"{_money(inc['total'])} in total"
    )


def register(app: typer.Typer) -> None:
    """Add `patron experiments` to the CLI."""
    app.add_typer(experiments_app, name="experiments")
