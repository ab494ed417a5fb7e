"""Pure geometry of the NPS-over-time chart (server-side SVG): -100..100, one point per month."""

from __future__ import annotations

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 32


def geometry(months: list[dict]) -> dict | None:
    """Points, polyline and ticks of the months' NPS (None when no month has NPS answers)."""
    shown = [m for m in months if m.get("nps") is not None]
    if not shown:
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(shown) - 1, 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (100 - v) / 200, 1)

    points = [
        {
            "x": round(LEFT + i * step, 1),
            "y": y(m["nps"]),
            "label": m["label"],
            "nps": m["nps"],
            "answers": m["answers"],
        }
        for i, m in enumerate(shown)
    ]
    every = max(1, len(points) // 8)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "x_ticks": [p for i, p in enumerate(points) if i % every == 0],
        "y_ticks": [{"y": y(v), "label": f"{v:+d}" if v else "0"} for v in (-100, -50, 0, 50, 100)],
    }
