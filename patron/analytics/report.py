"""Self-contained HTML report of `patron analyze`: inline CSS and inline SVG charts, no scripts."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from patron.analytics import charts
from patron.analytics.analyze import Analysis

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


def _fmt(value, unit: str) -> str:
    """A KPI value for the report."""
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "cents":
        return f"{value / 100:,.2f}"
    return f"{value:.2f}"


def write_report(result: Analysis, path: Path) -> None:
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
        css=_CSS,
        fmt=_fmt,
        clv_chart=clv_chart,
        segment_chart=charts.segment_chart(result.segments),
    )
    Path(path).write_text(html, encoding="utf-8")
