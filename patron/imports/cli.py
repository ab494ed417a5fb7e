"""`patron import`: load customers, products or orders from a CSV or CDNOW file."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from patron.db import utcnow
from patron.imports import service
from patron.imports.rules import COLUMNS, RowError, parse_mapping
from patron.runtime import fail, open_runtime, run_cli

HELP = f"""Import customers, products or orders from FILE, upserting by external id or SKU
(re-importing a file changes nothing).

Columns are matched by header name; --map TARGET=SOURCE maps others. Known columns:
customers: {", ".join(COLUMNS["customers"])};
products: {", ".join(COLUMNS["products"])};
orders: {", ".join(COLUMNS["orders"])} (rows sharing an order id are its lines; unknown
customers are created). Money columns are decimals (19.99) or *_cents integers; placed_at is
ISO-8601 with a zone, or a bare date for midnight UTC. --format cdnow reads the CDNOW data set
(orders only).

Exit code: 0 when every row was imported (or unchanged), 1 when some rows were rejected (the
others are imported), 2 on a fatal error (missing file, unknown kind, bad mapping, missing
required column) before anything is written.
"""


def import_file(
    kind: str = typer.Argument(..., help="customers, products or orders."),
    file: Path = typer.Argument(..., help="The file to import."),
    map_: list[str] = typer.Option(
        [],
        "--map",
        metavar="TARGET=SOURCE",
        help="Take column TARGET from file column SOURCE (repeatable).",
    ),
    fmt: str = typer.Option("csv", "--format", help="csv, or cdnow for the CDNOW files."),
    attributes: bool = typer.Option(
        False, "--attributes", help="Keep unknown customer columns as attributes."
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", metavar="FILE", help="Also write rejected rows to this CSV."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count, but save nothing."),
) -> None:
    """Import customers, products or orders from a CSV (or CDNOW) file."""
    parsed = run_cli(
        lambda: service.read_file(
            kind=kind, path=file, fmt=fmt, mapping=parse_mapping(map_), attributes=attributes
        )
    )
    runtime = open_runtime()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"importing {kind}", total=parsed.rows)
        bar.advance(task, len({e.row for e in parsed.rejected}))
        try:
            report = service.apply(
                factory=runtime.sessions,
                kind=kind,
                parsed=parsed,
                now=utcnow(),
                dry_run=dry_run,
                progress=lambda rows: bar.advance(task, rows),
            )
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise fail(f"database error: {reason}", 2)
    _print_report(kind, report, dry_run)
    if rejects is not None:
        run_cli(lambda: _write_rejects(rejects, report.rejected))
    raise typer.Exit(1 if report.rejected else 0)


def _print_report(kind: str, report: service.ImportReport, dry_run: bool) -> None:
    """Print the rejected rows as a table and a one-line summary."""
    if report.rejected:
        table = Table("row", "column", "reason", title="Rejected rows")
        for error in report.rejected:
            table.add_row(str(error.row), error.column or "-", error.reason)
        Console().print(table)
    rejected_rows = len({e.row for e in report.rejected})
    note = " (dry run: nothing was saved)" if dry_run else ""
    typer.echo(
        f"{kind}: {report.rows} rows read; {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged; "
        f"{rejected_rows} rows rejected{note}"
    )


def _write_rejects(path: Path, rejected: list[RowError]) -> None:
    """Write rejected rows to a CSV file: row, column, reason."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "column", "reason"])
        writer.writerows((e.row, e.column, e.reason) for e in rejected)


def register(app: typer.Typer) -> None:
    """Add the `import` command to the patron CLI."""
    app.command("import", help=HELP)(import_file)
