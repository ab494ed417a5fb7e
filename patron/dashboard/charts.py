"""Server-side SVG charts with pygal: no JavaScript, nothing loaded from the internet."""

from __future__ import annotations

import re
from datetime import date

import pygal
from markupsafe import Markup
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#e4e7ee",
    colors=("#3b5bdb", "#9aa6c2"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    opacity=".25",
    opacity_hover=".4",
    transition="0s",
    guide_stroke_color="#e4e7ee",
    major_guide_stroke_color="#e4e7ee",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
    stroke_width=1.5,
)


def _config(**overrides) -> dict:
    """Common chart options: static SVG (js=[] drops pygal's CDN script), compact, no legend."""
    base = dict(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=960,
        height=260,
        show_legend=False,
        margin=8,
        spacing=8,
        show_minor_x_labels=False,
        x_label_rotation=0,
        truncate_label=-1,
        show_dots=False,
        fill=True,
        show_x_guides=False,
        y_labels_major_count=5,
        show_minor_y_labels=False,
        explicit_size=False,
        tooltip_border_radius=4,
    )
    base.update(overrides)
    return base


def daily_revenue_chart(daily: list[tuple[date, int]], currency: str = "USD") -> Markup:
    """A filled line of net revenue per day, as inline SVG markup."""
    chart = pygal.Line(
        **_config(value_formatter=lambda v: f"{v:,.0f}", y_title=f"Revenue ({currency})")
    )
    chart.x_labels = [d.strftime("%b %d").replace(" 0", " ") for d, _ in daily]
    every = max(1, len(daily) // 8)
    chart.x_labels_major = chart.x_labels[::every]
    chart.add("Revenue", [cents / 100 for _, cents in daily])
    return _static(chart.render(is_unicode=True))


_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _static(svg: str) -> Markup:
    """The SVG without pygal's inline config script (only its tooltips would use it)."""
    return Markup(_SCRIPT.sub("", svg))
