"""Self-contained HTML report of `patron analyze`: inline CSS and inline SVG charts, no scripts."""

from __future__ import annotations

from pathlib import Path

import pygal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from patron.analytics import charts
from patron.analytics.analyze import Analysis
from patron.analytics.kpis import fmt as _fmt

_CSS = """
body { font: 15px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       background: #f6f7fb; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
section { background: #fff; border: 1px solid #e4e7ee; border-radius: 8px; padding: 16px 20px;
          margin-bottom: 18px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e4e7ee; }
th { color: #667085; font-size: 13px; } td.num { text-align: right;
     font-variant-numeric: tabular-nums; }
.help { color: #667085; font-size: 13px; } svg { width: 100%; height: auto; }
"""

TEMPLATES = Path(__file__).parent / "templates"


def _money(value, unit: str, currency: str) -> str:
    """A KPI value with the currency code for money."""
    text = _fmt(value, unit)
    return f"{currency} {text}" if unit == "cents" and value is not None else text


def _change(value, unit: str, currency: str) -> str:
    """A KPI change with its sign: points for ratios, currency for money."""
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value * 100:+.1f} pts"
    if unit == "cents":
        return f"{'+' if value >= 0 else '−'}{currency} {abs(value) / 100:,.2f}"
    return f"{value:+.2f}"


def holdout_chart(holdout: dict) -> Markup | None:
    """Mean actual vs predicted holdout repeat transactions per calibration frequency."""
    bins = holdout.get("bins")
    if not bins:
        return None
    chart = pygal.Line(
        **charts._config(
            x_title="Repeat transactions in the calibration period",
            y_title="Mean repeat transactions in the holdout",
            value_formatter=lambda v: f"{v:.2f}",
        )
    )
    chart.x_labels = [str(b["frequency"]) for b in bins[:-1]] + [f"{bins[-1]['frequency']}+"]
    chart.add("Actual", [b["actual"] for b in bins])
    chart.add("Predicted", [b["predicted"] for b in bins])
    return charts.static_svg(chart.render(is_unicode=True))


def write_report(result: Analysis, path: Path, *, currency: str = "USD") -> None:
    """Write the analysis as one self-contained HTML file."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )
    template = env.get_template("analytics/report.html")
    clv_values = result.scores.get("clv")
    clv_chart = None
    if clv_values is not None:
        clv_chart = charts.histogram_chart(
            charts.histogram_bins(clv_values * 100.0), title="Predicted CLV"
        )
    html = template.render(
        a=result,
        css=Markup(_CSS),
        fmt=_fmt,
        money=_money,
        change=_change,
        currency=currency,
        holdout_chart=holdout_chart(result.holdout) if result.holdout else None,
        clv_chart=clv_chart,
        segment_chart=charts.segment_chart(result.segments),
    )
    Path(path).write_text(html, encoding="utf-8")
