"""Currencies' minor units (ISO 4217): the one table customers and the dashboard share."""

from __future__ import annotations

# Currencies whose minor unit is not 1/100.
MINOR_DIGITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "HUF": 2,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def minor_digits(currency: str) -> int:
    """Number of decimal digits of a currency's minor unit."""
    return MINOR_DIGITS.get(currency, 2)
