"""Pure rules of a broadcast's chart over time: adaptive buckets and the SVG geometry.

Hourly buckets while everything happened within 48 hours of the first send's hour, daily
buckets (from the first send's UTC day, at most MAX_DAYS) after that. No I/O, no clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

HOUR, DAY = 3600, 86400
HOURLY_SPAN = 48
MAX_DAYS = 90
# series name in the SQL union -> key in a bucket
SERIES = {"sends": "sends", "open": "opens", "click": "clicks"}
WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 44, 12, 36


def plan(first: datetime, last: datetime) -> tuple[str, datetime, int, int]:
    """(unit, start, bucket seconds, bucket count) covering first..last."""
    hour = first.replace(minute=0, second=0, microsecond=0)
    if last < hour + timedelta(hours=HOURLY_SPAN):
        return "hour", hour, HOUR, int((last - hour).total_seconds() // HOUR) + 1
    day = hour.replace(hour=0)
    days = int((last - day).total_seconds() // DAY) + 1
    return "day", day, DAY, min(days, MAX_DAYS)


def buckets_of(
    *, unit: str, start: datetime | None, counts: dict[tuple[str, int], int], count: int
) -> dict:
    """Every bucket with its sends, opens and clicks (zero where nothing happened)."""
    size = HOUR if unit == "hour" else DAY
    buckets = []
    for n in range(count):
        at = start + timedelta(seconds=n * size)
        row = {"start": at, **{key: counts.get((name, n), 0) for name, key in SERIES.items()}}
        buckets.append(row)
    return {"unit": unit, "buckets": buckets}


def _ceiling(value: int) -> int:
    """A round top for the y axis at or above value (1, 2 or 5 times a power of ten)."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if power * factor >= value:
                return power * factor
        power *= 10


def label(unit: str, at: datetime) -> str:
    """The axis label of a bucket."""
    return at.strftime("%d %b %H:00") if unit == "hour" else at.strftime("%d %b")


def geometry(timeline: dict) -> dict:
    """Coordinates of the SVG chart: one polyline and its points per series, axis ticks."""
    buckets = timeline["buckets"]
    top = _ceiling(max((b[k] for b in buckets for k in SERIES.values()), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(buckets) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + i * step, 1)

    def y(v: int) -> float:
        return round(TOP + plot_h * (1 - v / top), 1)

    series = []
    for key in SERIES.values():
        points = [(x(i), y(b[key])) for i, b in enumerate(buckets)]
        series.append(
            {"key": key, "points": points, "polyline": " ".join(f"{a},{b}" for a, b in points)}
        )
    every = max(1, len(buckets) // 8)
    x_ticks = [
        {"x": x(i), "label": label(timeline["unit"], b["start"])}
        for i, b in enumerate(buckets)
        if i % every == 0
    ]
    y_ticks = [{"y": y(v), "label": str(v)} for v in sorted({0, top // 2, top})]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
    }
