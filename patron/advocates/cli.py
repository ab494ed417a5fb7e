"""Commands of advocates: `patron advocates ambassadors|score`."""

from __future__ import annotations

import typer

from patron.advocates import rules, service
from patron.customers import service as customers
from patron.db import transaction
from patron.runtime import open_runtime, run_cli

app = typer.Typer(help="Advocates: advocacy scores and ambassadors.", no_args_is_help=True)


@app.command("ambassadors")
def ambassadors_command(
    limit: int = typer.Option(50, min=1, max=1000, help="How many, best first."),
    everyone: bool = typer.Option(False, help="Everyone with points, not only ambassadors."),
) -> None:
    """List ambassadors: customer id, email, score and its parts."""
    runtime = open_runtime()

    def rows():
        with transaction(runtime.sessions) as session:
            return service.ambassadors(session=session, limit=limit, everyone=everyone)

    typer.echo("customer\temail\tscore\t" + "\t".join(rules.PARTS))
    for r in run_cli(rows):
        parts = "\t".join(str(r["parts"][p]) for p in rules.PARTS)
        typer.echo(f"{r['customer_id']}\t{r['email'] or ''}\t{r['score']:g}\t{parts}")


@app.command("score")
def score_command(customer: int) -> None:
    """Show one customer's advocacy score and its parts."""
    runtime = open_runtime()

    def score():
        with transaction(runtime.sessions) as session:
            customers.get_customer(session=session, customer_id=customer)
            return service.score_of(session=session, customer_id=customer)

    result = run_cli(score)
    typer.echo(f"score {result['score']:g} (ambassador from {result['threshold']:g})")
    for part, value in result["parts"].items():
        typer.echo(f"  {part}: {value['count']} -> {value['points']:g}")


def register(root: typer.Typer) -> None:
    """Add the `advocates` command group."""
    root.add_typer(app, name="advocates")
