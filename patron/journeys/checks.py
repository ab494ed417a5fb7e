"""Shared checks of journey definitions: the error naming a step, and typed field readers."""

from __future__ import annotations

from typing import Any

from patron.errors import InvalidInput
from patron.journeys.rules import parse_clock


class DefinitionError(InvalidInput):
    """A definition refused at save time; `step` names the step at fault (or a top field)."""

    def __init__(self, step: str, message: str):
        where = f"step {step}" if not step.startswith("$") else step[1:]
        super().__init__(
            f"{where}: {message}", details=[{"step": step.lstrip("$"), "message": message}]
        )
        self.step = step.lstrip("$")


def need(raw: Any, key: str, kind, where: str, *, optional: bool = False) -> Any:
    """raw[key] of the given type, or a DefinitionError."""
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is None and optional:
        return None
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DefinitionError(where, f"{key}: a {name} is required")
    return value


def integer(raw: Any, key: str, where: str, lo: int, hi: int, *, optional: bool = False):
    """raw[key] as an int within [lo, hi], or a DefinitionError."""
    value = need(raw, key, int, where, optional=optional)
    if value is not None and not lo <= value <= hi:
        raise DefinitionError(where, f"{key}: between {lo} and {hi}")
    return value


def clock(raw: dict, where: str, default: str = "09:00") -> str:
    """A local time of day HH:MM."""
    at = raw.get("at", default)
    try:
        parse_clock(at if isinstance(at, str) else "")
    except ValueError:
        raise DefinitionError(where, "at: a time of day HH:MM is required")
    return at


def weekdays(raw: dict, where: str) -> list[int] | None:
    """Weekdays 0 (Monday) to 6, sorted, or None for every day."""
    days = raw.get("weekdays")
    if days is not None and (
        not isinstance(days, list)
        or not days
        or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days)
    ):
        raise DefinitionError(where, "weekdays: a list of days 0 (Monday) to 6 is required")
    return sorted(set(days)) if days else None
