"""Formatting filters of every dashboard page: money, numbers, percentages, times."""

from __future__ import annotations

from datetime import datetime

from patron.money import SYMBOLS, minor_digits

MISSING = "–"


def money(cents: int | None, currency: str = "USD", whole: bool = False) -> str:
    """Format integer minor units as an amount, e.g. 123456 -> $1,234.56 (whole: $1,235)."""
    if cents is None:
        return MISSING
    symbol = SYMBOLS.get(currency)
    digits = minor_digits(currency)
    amount = f"{abs(cents) / 10**digits:,.{0 if whole else digits}f}"
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def number(value: int | None) -> str:
    """Format a count with thousands separators."""
    return MISSING if value is None else f"{value:,}"


def percent(rate: float | None, digits: int = 1) -> str:
    """Format a share between 0 and 1 as a percentage."""
    return MISSING if rate is None else f"{rate * 100:.{digits}f}%"


def when(moment: datetime | None) -> str:
    """Format an aware timestamp for tables, in UTC."""
    return MISSING if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


FILTERS = {"money": money, "number": number, "percent": percent, "when": when}
