"""`patron import`: load customers, products or orders from a CSV or CDNOW file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from patron.db import utcnow
from patron.imports import service
from patron.imports.rules import COLUMNS, REJECT_COLUMNS, ignored_warning, parse_mapping
from patron.runtime import fail, open_runtime, run_cli

# Rejected-row reasons printed in the table; the rejects file has them all.
SHOWN = 50

HELP = f"""Import customers, products or orders from FILE, upserting by external id or SKU
(re-importing a file changes nothing).

Columns are matched by header name; --map TARGET=SOURCE maps others. Known columns:
customers: {", ".join(COLUMNS["customers"])};
products: {", ".join(COLUMNS["products"])};
orders: {", ".join(COLUMNS["orders"])} (consecutive rows sharing an order id are its lines;
unknown customers are created). Money columns are decimals (19.99) or *_cents integers; placed_at is
ISO-8601 with a zone, or a bare date for midnight UTC. --format cdnow reads the CDNOW data set
(orders only).

Row numbers count the header: row 2 is the first data row. A row is rejected when its cells
do not match the header in number, or hold a NUL character or bytes that are not UTF-8.

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
        None,
        "--rejects",
        metavar="FILE",
        help="Also write rejected rows to this CSV: the file's columns and cells, then _row, "
        "_column and _reason; fix the cells and import it again.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count, but save nothing."),
) -> None:
    """Import customers, products or orders from a CSV (or CDNOW) file."""
    source = run_cli(
        lambda: service.open_source(
            kind=kind, path=file, fmt=fmt, mapping=parse_mapping(map_), attributes=attributes
        )
    )
    with source:
        warning = ignored_warning(kind, source.ignored)
        if warning:
            typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
        runtime = open_runtime()
        with _rejects_writer(rejects, source) as on_reject:
            report = _import(runtime, kind, source, on_reject, dry_run)
    _print_report(kind, report, dry_run, rejects)
    raise typer.Exit(1 if report.rejected_rows else 0)


def _import(runtime, kind: str, source: service.Source, on_reject, dry_run: bool):
    """Run the import under a progress bar of bytes read."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"importing {kind}", total=source.size, rows=0)
        try:
            return service.apply(
                factory=runtime.sessions,
                kind=kind,
                source=source,
                now=utcnow(),
                dry_run=dry_run,
                progress=lambda done: bar.update(task, completed=done, rows=source.rows),
                on_reject=on_reject,
            )
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise fail(f"database error: {reason}", 2)


@contextmanager
def _rejects_writer(path: Path | None, source: service.Source) -> Iterator:
    """A callback writing each rejected row to path (None: no file): the input's columns and
    cells, then _row, _column and _reason."""
    if path is None:
        yield None
        return
    handle = run_cli(lambda: path.open("w", newline="", encoding="utf-8", errors="surrogateescape"))
    keep = [i for i, name in enumerate(source.header) if name.strip() not in REJECT_COLUMNS]
    width = len(source.header)
    with handle:
        writer = csv.writer(handle)
        writer.writerow([source.header[i] for i in keep] + list(REJECT_COLUMNS))

        def write(rejection: service.Rejection) -> None:
            cells = rejection.cells + [""] * (width - len(rejection.cells))
            columns = dict.fromkeys(e.column for e in rejection.errors if e.column)
            reasons = dict.fromkeys(e.reason for e in rejection.errors)
            # Cells beyond the header go last, so every column stays under its name.
            writer.writerow(
                [
                    *(cells[i] for i in keep),
                    rejection.row,
                    ";".join(columns),
                    "; ".join(reasons),
                    *cells[width:],
                ]
            )

        yield write


def _plural(count: int, noun: str) -> str:
    """'1 row', '2 rows'."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _print_report(
    kind: str, report: service.ImportReport, dry_run: bool, rejects: Path | None
) -> None:
    """Print the rejected rows as a table (the first SHOWN) and a one-line summary."""
    if report.rejected:
        table = Table("row", "column", "reason", title="Rejected rows")
        for error in report.rejected[:SHOWN]:
            table.add_row(str(error.row), error.column or "-", error.reason)
        Console().print(table)
        typer.echo("Row numbers count the header: row 2 is the first data row.")
        if len(report.rejected) > SHOWN or report.rejected_rows > len(report.rejected):
            where = f"all of them are in {rejects}" if rejects else "see them all with --rejects"
            typer.echo(f"The table shows the first {SHOWN} reasons; {where}.")
    note = " (dry run: nothing was saved)" if dry_run else ""
    typer.echo(
        f"{kind}: {_plural(report.rows, 'row')} read; {report.created:,} created, "
        f"{report.updated:,} updated, {report.unchanged:,} unchanged; "
        f"{_plural(report.rejected_rows, 'row')} rejected{note}"
    )


def register(app: typer.Typer) -> None:
    """Add the `import` command to the patron CLI."""
    app.command("import", help=HELP)(import_file)
