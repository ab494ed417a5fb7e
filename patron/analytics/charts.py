"""Server-side SVG charts of customer intelligence, drawn with pygal (no JavaScript, no CDN)."""

from __future__ import annotations

import numpy as np
import pygal
from markupsafe import Markup
from pygal.style import Style

from patron.dashboard.charts import BASE_STYLE, chart_options, static_svg

STYLE = Style(**BASE_STYLE)


def _config(**overrides) -> dict:
    """The shared chart options with this module's style and a taller plot."""
    return chart_options(**{"style": STYLE, "height": 300, **overrides})


def _money(cents: float) -> str:
    """Whole currency units with separators, for axis labels."""
    return f"{cents / 100:,.0f}"


def histogram_chart(bins: list[dict], *, title: str = "Predicted 12-month CLV") -> Markup:
    """Bars of customers per value bin ({from_cents, to_cents, customers}) as inline SVG."""
    chart = pygal.Bar(
        **_config(
            x_title=title,
            y_title="Customers",
            x_label_rotation=30,
            value_formatter=lambda v: f"{v:,.0f}",
        )
    )
    chart.x_labels = [
        f"{_money(b['from_cents'])}+"
        if b["to_cents"] is None
        else f"{_money(b['from_cents'])}–{_money(b['to_cents'])}"
        for b in bins
    ]
    chart.add("Customers", [b["customers"] for b in bins])
    return static_svg(chart.render(is_unicode=True))


def histogram_bins(
    values_cents: np.ndarray, *, bins: int = 20, cap_quantile: float = 0.99
) -> list[dict]:
    """Bin values like the service's CLV distribution: equal widths, the top 1% in the last."""
    values = np.asarray(values_cents, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return []
    cap = float(np.quantile(values, cap_quantile))
    width = max(int(np.ceil(cap / (bins - 1))), 1)
    index = np.minimum(values // width, bins - 1).astype(np.int64)
    counts = np.bincount(index, minlength=bins)
    return [
        {
            "from_cents": i * width,
            "to_cents": None if i == bins - 1 else (i + 1) * width,
            "customers": int(counts[i]),
        }
        for i in range(bins)
    ]


def segment_chart(segments: list[dict]) -> Markup:
    """Horizontal bars of customers per RFM segment as inline SVG."""
    chart = pygal.HorizontalBar(**_config(height=340, value_formatter=lambda v: f"{v:,.0f}"))
    chart.x_labels = [s["name"] for s in segments]
    chart.add("Customers", [s["customers"] for s in segments])
    return static_svg(chart.render(is_unicode=True))
