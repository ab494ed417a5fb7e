"""Formatting filters shared by every dashboard page."""

from __future__ import annotations

from datetime import UTC, datetime

from patron.web.filters import money, number, percent, when


def test_money_formats_minor_units_by_currency():
    assert money(123456) == "$1,234.56"
    assert money(-5, "EUR") == "-€0.05"
    assert money(1000, "JPY") == "1,000 JPY"
    assert money(123456, whole=True) == "$1,235"
    assert money(None) == "–"


def test_numbers_percentages_and_times():
    assert number(1234567) == "1,234,567" and number(None) == "–"
    assert percent(0.5342) == "53.4%" and percent(None) == "–"
    assert when(datetime(2025, 1, 2, 3, 4, tzinfo=UTC)) == "2025-01-02 03:04 UTC"
