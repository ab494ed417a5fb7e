"""Commands of customer intelligence: `patron refresh` and `patron analyze FILE`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from patron.analytics import analyze as analysis
from patron.analytics import kpis
from patron.config import blas_thread_limit
from patron.runtime import open_runtime, run_cli
from patron.threads import pin_blas_threads

console = Console(stderr=True)


@contextmanager
def _steps(names: tuple[str, ...]) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar advanced once per named step; yields the step callback."""
    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=len(names))
        seen: list[str] = []

        def advance(name: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(name)
            bar.update(task, description=name)

        yield advance
        bar.update(task, completed=len(names))


def _fit_table(title: str, fit: dict) -> Table:
    """Parameters, standard errors and log-likelihood of a fitted model."""
    table = Table(title=title)
    for column in ("parameter", "estimate", "std. error"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for name, value in fit["params"].items():
        error = fit["std_errors"].get(name)
        table.add_row(name, f"{value:.4f}", "–" if error is None else f"{error:.4f}")
    table.caption = f"log-likelihood {fit['log_likelihood']:.3f}, {fit['customers']:,} customers"
    return table


def refresh_command(
    model: str = typer.Option(
        analysis.DEFAULT_MODEL, help="Purchase model: mbgnbd (default), bgnbd or paretonbd."
    ),
) -> None:
    """Recompute every customer's RFM scores, lifecycle stage and CLV predictions."""
    from patron.analytics import refresh as refreshing

    runtime = open_runtime()

    def run():
        with _steps(refreshing.STEPS) as step:
            return refreshing.refresh(
                sessions=runtime.sessions, now=datetime.now(UTC), progress=step, model=model
            )

    report = run_cli(run)
    out = Console()
    out.print(
        f"scored {report.customers:,} customers ({report.buyers:,} with orders) "
        f"in {report.seconds:.1f} s; {report.stage_changes:,} stage changes; "
        f"segments: {report.segments}"
    )
    if report.fit:
        out.print(_fit_table(f"{report.model} ({report.fit['unit']})", report.fit))
    if report.fit_note:
        out.print(f"no predictions: {report.fit_note}")


def _kpi_table(result: analysis.Analysis) -> Table:
    """The KPIs of the last period beside the previous one."""
    days = result.kpis["period_days"]
    table = Table(title=f"KPIs: last {days} days of the data vs the {days} before")
    for column in ("KPI", "last period", "previous"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for row in result.kpis["rows"]:
        table.add_row(
            row["label"],
            kpis.fmt(row["value"], row["unit"]),
            kpis.fmt(row["previous"], row["unit"]),
        )
    return table


@contextmanager
def _reading() -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar of the bytes of the file read so far."""
    with Progress(
        TextColumn("reading"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("reading", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _holdout_table(holdout: dict) -> Table:
    """Actual vs predicted repeat transactions after the calibration end."""
    table = Table(
        title=f"Calibration to {holdout['calibration_end']} vs the {holdout['holdout_days']} "
        f"days after ({holdout['model']})"
    )
    for column in ("repeat transactions", "actual", "predicted"):
        table.add_column(column, justify="left" if column.startswith("repeat") else "right")
    table.add_row("calibration period", f"{holdout['calibration_repeat']:,}", "")
    predicted = holdout.get("holdout_predicted")
    table.add_row(
        "holdout period",
        f"{holdout['holdout_actual']:,}",
        "–" if predicted is None else f"{predicted:,.1f}",
    )
    for row in holdout.get("bins", []):
        label = f"{row['frequency']}{'+' if row is holdout['bins'][-1] else ''}"
        table.add_row(
            f"  mean per customer, {label} in calibration ({row['customers']:,})",
            f"{row['actual']:.3f}",
            f"{row['predicted']:.3f}",
        )
    if holdout.get("note"):
        table.caption = holdout["note"]
    return table


def _segment_table(result: analysis.Analysis) -> Table:
    """Customers per RFM segment."""
    table = Table(title="RFM segments")
    table.add_column("segment")
    table.add_column("customers", justify="right")
    for segment in result.segments:
        table.add_row(segment["name"], f"{segment['customers']:,}")
    return table


def analyze_command(
    file: Path = typer.Argument(..., help="Transactions: one row per order."),
    format: str = typer.Option("csv", "--format", help="csv (with a header) or cdnow."),
    customer_column: str = typer.Option("customer_id", help="Column of customer ids."),
    date_column: str = typer.Option("date", help="Column of order dates or timestamps."),
    amount_column: str = typer.Option("amount", help="Column of order amounts."),
    delimiter: str = typer.Option(",", help="Field separator of a csv file."),
    date_format: str = typer.Option(None, help="strptime format of dates; default ISO 8601."),
    unit: str = typer.Option("weeks", help="Time unit of the models: days, weeks or months."),
    model: str = typer.Option(
        analysis.DEFAULT_MODEL, help="Purchase model: mbgnbd (default), bgnbd or paretonbd."
    ),
    period_days: int = typer.Option(90, help="KPI period length, ending at the last order."),
    observation_end: datetime = typer.Option(
        None, formats=["%Y-%m-%d"], help="Last day observed; later orders are ignored."
    ),
    calibration_end: datetime = typer.Option(
        None,
        formats=["%Y-%m-%d"],
        help="Last day of a calibration period: the report compares the model's predicted "
        "repeat transactions after it with the actual ones.",
    ),
    scores: Path = typer.Option(None, help="Write per-customer scores to this CSV."),
    report: Path = typer.Option(None, help="Write a self-contained HTML report here."),
) -> None:
    """Analyse a transactions file: KPIs, RFM segments, model fit, scores (no database).

    Zero amounts count as purchases; negative amounts, unreadable values, future dates and
    unknown columns are refused with one error line (exit code 2).
    """
    spec = analysis.CsvSpec(
        format=format,
        customer=customer_column,
        date=date_column,
        amount=amount_column,
        delimiter=delimiter,
        date_format=date_format,
    )

    def run():
        # As refresh: one BLAS thread by default (threads of a busy machine fight, and the
        # sums of the fits then do not depend on the thread count).
        pin_blas_threads(blas_thread_limit())
        with _steps(analysis.STEPS) as step, _reading() as read_progress:
            result = analysis.analyze(
                file,
                spec,
                now=datetime.now(UTC),
                unit=unit,
                model=model,
                period_days=period_days,
                observation_end=observation_end and observation_end.date(),
                calibration_end=calibration_end and calibration_end.date(),
                progress=step,
                read_progress=read_progress,
            )
        if scores:
            analysis.write_scores(result, scores)
        if report:
            from patron.analytics import report as html_report  # pygal, Jinja: only when asked

            html_report.write_report(result, report)
        return result

    result = run_cli(run)
    out = Console()
    out.print(
        f"{result.transactions:,} orders by {result.customers:,} customers, "
        f"{result.first_date} to {result.end_date}"
    )
    out.print(_kpi_table(result))
    out.print(_segment_table(result))
    if result.fit:
        out.print(_fit_table(f"{result.model} ({result.unit})", result.fit))
    if result.spend_fit:
        out.print(_fit_table("Gamma-Gamma spend", result.spend_fit))
    if result.fit_note:
        out.print(f"no predictions: {result.fit_note}")
    if result.dropped:
        out.print(f"{result.dropped:,} orders after the observation end {result.end_date} ignored")
    if result.holdout:
        out.print(_holdout_table(result.holdout))
    for path, what in ((scores, "scores"), (report, "report")):
        if path:
            out.print(f"{what} written to {path}")


def register(app: typer.Typer) -> None:
    """Add `refresh` and `analyze` to the patron command."""
    app.command("refresh")(refresh_command)
    app.command("analyze")(analyze_command)
