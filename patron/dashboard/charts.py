"""Server-side SVG charts with pygal: no JavaScript, nothing loaded from the internet."""

from __future__ import annotations

import re
from datetime import date

import pygal
from markupsafe import Markup
from pygal.style import Style

# Palette and fonts every Patron chart shares (the analytics pages use them too).
BASE_STYLE = dict(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#e4e7ee",
    colors=("#3b5bdb", "#9aa6c2"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    transition="0s",
)
STYLE = Style(
    **BASE_STYLE,
    opacity=".25",
    opacity_hover=".4",
    guide_stroke_color="#e4e7ee",
    major_guide_stroke_color="#e4e7ee",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
    stroke_width=1.5,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def chart_options(**overrides) -> dict:
    """Options every chart shares: static SVG (js=[] drops pygal's CDN script), no legend."""
    return {
        "js": [],
        "disable_xml_declaration": True,
        "width": 960,
        "show_legend": False,
        "margin": 8,
        "explicit_size": False,
        "truncate_label": -1,
        **overrides,
    }


def static_svg(svg: str) -> Markup:
    """The SVG without pygal's inline config script (only its tooltips would use it)."""
    return Markup(_SCRIPT.sub("", svg))


def _config(**overrides) -> dict:
    """The overview's chart options: a compact filled line without dots or vertical guides."""
    return chart_options(
        **{
            "style": STYLE,
            "height": 260,
            "spacing": 8,
            "show_minor_x_labels": False,
            "x_label_rotation": 0,
            "show_dots": False,
            "fill": True,
            "show_x_guides": False,
            "y_labels_major_count": 5,
            "show_minor_y_labels": False,
            "tooltip_border_radius": 4,
            **overrides,
        }
    )


def daily_revenue_chart(daily: list[tuple[date, int]], currency: str = "USD") -> Markup:
    """A filled line of net revenue per day, as inline SVG markup."""
    chart = pygal.Line(
        **_config(
            value_formatter=lambda v: f"{v:,.0f}",
            y_title=f"Revenue ({currency})",
            include_x_axis=True,  # the axis starts at 0, so a small dip does not look like a fall
        )
    )
    chart.x_labels = [d.strftime("%b %d").replace(" 0", " ") for d, _ in daily]
    every = max(1, len(daily) // 8)
    chart.x_labels_major = chart.x_labels[::every]
    chart.add("Revenue", [cents / 100 for _, cents in daily])
    return static_svg(chart.render(is_unicode=True))
