"""Formatting filters of every dashboard page: money, numbers, percentages, times."""

from __future__ import annotations

from datetime import datetime

from patron.money import SYMBOLS, minor_digits

MISSING = "–"
MINUS = "\u2212"  # a true minus sign: as wide as the plus, unlike a hyphen


def money(cents: int | None, currency: str = "USD", whole: bool = False) -> str:
    """Format integer minor units as an amount, e.g. 123456 -> $1,234.56 (whole: $1,235)."""
    if cents is None:
        return MISSING
    symbol = SYMBOLS.get(currency)
    digits = minor_digits(currency)
    amount = f"{abs(cents) / 10**digits:,.{0 if whole else digits}f}"
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def signed_money(cents: int | None, currency: str = "USD", whole: bool = False) -> str:
    """Format a change of money with its sign, e.g. +$1,234.00 or −$56.00 (a true minus)."""
    if cents is None:
        return MISSING
    unsigned = money(abs(cents), currency, whole)
    return unsigned if cents == 0 else f"{'+' if cents > 0 else MINUS}{unsigned}"


def number(value: int | None) -> str:
    """Format a count with thousands separators."""
    return MISSING if value is None else f"{value:,}"


def percent(rate: float | None, digits: int = 1) -> str:
    """Format a share between 0 and 1 as a percentage."""
    return MISSING if rate is None else f"{rate * 100:.{digits}f}%"


def when(moment: datetime | None) -> str:
    """Format an aware timestamp for tables, in UTC."""
    return MISSING if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


FILTERS = {
    "money": money,
    "signed_money": signed_money,
    "number": number,
    "percent": percent,
    "when": when,
}
