"""Pure rules of the overview: date ranges, the period before, and changes between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from patron.analytics.kpis import DEFAULT_RANGE_DAYS
from patron.errors import InvalidInput

PRESETS = (30, 90, 365)
DEFAULT_DAYS = DEFAULT_RANGE_DAYS  # the KPI page's default too
MAX_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """A range of whole UTC days, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) aware UTC instants."""
        begin = datetime.combine(self.start, time(), tzinfo=UTC)
        return begin, begin + timedelta(days=self.days)

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def dates(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.start + timedelta(days=d) for d in range(self.days)]


def last_days(days: int, today: date) -> Period:
    """The last `days` days up to and including today."""
    return Period(today - timedelta(days=days - 1), today)


def active_preset(period: Period, today: date) -> int | None:
    """The preset a period equals (the last N days up to today), to highlight its chip."""
    return period.days if period.end == today and period.days in PRESETS else None


def _parse(value: str, name: str) -> date:
    """Parse an ISO date from a form field."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2025-01-31, got {value!r}")


def choose_period(*, start: str | None, end: str | None, preset: int | None, today: date) -> Period:
    """The period asked for by the overview form: from/to dates, a preset, or the default."""
    if preset is not None:
        if preset not in PRESETS:
            raise InvalidInput(f"preset must be one of {', '.join(map(str, PRESETS))} days")
        return last_days(preset, today)
    if not start and not end:
        return last_days(DEFAULT_DAYS, today)
    last = _parse(end, "to") if end else today
    first = _parse(start, "from") if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("the from date must not be after the to date")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"choose at most {MAX_DAYS} days")
    return Period(first, last)


@dataclass(frozen=True)
class Change:
    """How a figure moved against the previous period."""

    text: str
    direction: str  # "up", "down" or "flat"


def relative_change(current: float | None, before: float | None) -> Change:
    """Percentage change of a count or amount against the previous period."""
    if current is None or before is None:
        return Change("nothing to compare", "flat")
    if before == 0:
        return Change("new" if current else "no change", "up" if current else "flat")
    change = (current - before) / abs(before) * 100
    return _change(change, f"{change:+.1f}%")


def point_change(current: float | None, before: float | None) -> Change:
    """Change of a rate (0..1) against the previous period, in percentage points."""
    if current is None or before is None:
        return Change("nothing to compare", "flat")
    points = (current - before) * 100
    return _change(points, f"{points:+.1f} pts")


def _change(amount: float, text: str) -> Change:
    """A change with the direction of amount."""
    if abs(amount) < 0.05:
        return Change("no change", "flat")
    return Change(text, "up" if amount > 0 else "down")
