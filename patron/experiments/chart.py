"""Pure geometry of the interval chart: one row per arm, its lift and interval against zero.

Drawn server-side as SVG (like the broadcast chart): no script, no CDN. No I/O, no clock.
"""

from __future__ import annotations

WIDTH, ROW, TOP, BOTTOM, LEFT, RIGHT = 640, 36, 12, 30, 90, 24


def _label(r: dict) -> str:
    """The lift and its interval in words."""
    return f"{r['rel'] * 100:+.1f}% ({r['low'] * 100:+.1f}% to {r['high'] * 100:+.1f}%)"


def geometry(rows: list[dict]) -> dict | None:
    """Rows of {key, rel, low, high} (relative lifts) as SVG coordinates with a zero line."""
    rows = [r for r in rows if all(isinstance(r.get(k), float) for k in ("rel", "low", "high"))]
    rows = [r for r in rows if all(abs(r[k]) < 1e6 for k in ("rel", "low", "high"))]
    if not rows:
        return None
    span = max(max(abs(r["low"]), abs(r["high"])) for r in rows) or 0.01
    span *= 1.1
    height = TOP + BOTTOM + ROW * len(rows)
    plot = WIDTH - LEFT - RIGHT

    def x(value: float) -> float:
        return round(LEFT + plot * (value + span) / (2 * span), 1)

    marks = []
    for i, r in enumerate(rows):
        y = TOP + ROW * i + ROW / 2
        marks.append(
            {
                "key": r["key"],
                "y": y,
                "x": x(r["rel"]),
                "x1": x(r["low"]),
                "x2": x(r["high"]),
                "label": _label(r),
                "clear": r["low"] > 0 or r["high"] < 0,
            }
        )
    ticks = [
        {"x": x(v), "label": f"{v * 100:+.0f}%"} for v in (-span, -span / 2, 0.0, span / 2, span)
    ]
    return {
        "width": WIDTH,
        "height": height,
        "zero": x(0.0),
        "top": TOP,
        "bottom": height - BOTTOM,
        "rows": marks,
        "ticks": ticks,
    }
