"""Pure rules of imports: column mapping, and CSV rows or CDNOW lines to validated inputs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from patron.customers.rules import (
    OrderInput,
    check_currency,
    check_email,
    parse_birthday,
    to_minor_units,
)
from patron.errors import InvalidInput

KINDS = ("customers", "products", "orders")
COLUMNS = {
    "customers": (
        "external_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "birthday",
        "locale",
        "time_zone",
        "consent_email",
    ),
    "products": ("sku", "name", "category", "price", "price_cents", "currency"),
    "orders": (
        "external_id",
        "customer_id",
        "placed_at",
        "total",
        "total_cents",
        "currency",
        "status",
        "discount",
        "discount_cents",
        "coupon_code",
        "sku",
        "quantity",
        "unit_price",
        "unit_price_cents",
    ),
}
# Each tuple lists alternatives: at least one of them must be a column of the file.
REQUIRED = {
    "customers": (("external_id",),),
    "products": (("sku",), ("price", "price_cents")),
    "orders": (
        ("external_id",),
        ("customer_id",),
        ("placed_at",),
        ("total", "total_cents", "unit_price", "unit_price_cents"),
    ),
}
ORDER_COLUMNS = (
    "customer_id",
    "placed_at",
    "total",
    "total_cents",
    "currency",
    "status",
    "discount",
    "discount_cents",
    "coupon_code",
)
LINE_COLUMNS = ("sku", "quantity", "unit_price", "unit_price_cents")
MAX_LENGTH = {
    "external_id": 255,
    "customer_id": 255,
    "email": 320,
    "phone": 64,
    "first_name": 255,
    "last_name": 255,
    "locale": 35,
    "time_zone": 64,
    "sku": 128,
    "name": 255,
    "category": 255,
    "coupon_code": 128,
}
MAX_CENTS = 10**15
CONSENT_WORDS = {
    "granted": "granted",
    "yes": "granted",
    "y": "granted",
    "true": "granted",
    "1": "granted",
    "subscribed": "granted",
    "confirmed": "granted",  # granted and confirmed already: no double opt-in mail
    "denied": "denied",
    "no": "denied",
    "n": "denied",
    "false": "denied",
    "0": "denied",
    "unsubscribed": "unsubscribed",
    "unknown": "unknown",
}
ORDER_STATUSES = ("placed", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded")
# Columns a rejects file adds: a fixed rejects file imports again without warnings.
REJECT_COLUMNS = ("_row", "_column", "_reason")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Bytes that are not UTF-8, read with errors="surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_INT = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class RowError:
    """Why one row of a file was rejected (row 1 is the CSV header)."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class CustomerRow:
    """A customer to create or update: external id and the profile fields given."""

    external_id: str
    profile: dict


@dataclass(frozen=True)
class ProductRow:
    """A product to create or update."""

    sku: str
    name: str
    category: str | None
    price_cents: int
    currency: str


@dataclass(frozen=True)
class Record:
    """One thing to import and the file rows it came from."""

    rows: tuple[int, ...]
    value: CustomerRow | ProductRow | OrderInput


@dataclass(frozen=True)
class Layout:
    """Where each known column is in the file, and extra columns kept as attributes."""

    columns: dict[str, int]
    extras: dict[str, int] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    def values(self, cells: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """The non-empty, stripped known and extra values of one row."""

        def pick(where: dict[str, int]) -> dict[str, str]:
            found = {name: cells[i].strip() for name, i in where.items() if i < len(cells)}
            return {name: value for name, value in found.items() if value}

        return pick(self.columns), pick(self.extras)


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """Parse `target=source` options into {target: source column}."""
    mapping = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInput(f"--map expects TARGET=SOURCE, got {pair!r}")
        mapping[target.strip()] = source.strip()
    return mapping


def layout(
    kind: str, header: list[str], mapping: dict[str, str], *, attributes: bool = False
) -> Layout:
    """Match header columns to known columns (by name or --map); refuse what cannot work."""
    known = COLUMNS[kind]
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise InvalidInput(
            f"cannot map {', '.join(unknown)}: {kind} columns are {', '.join(known)}"
        )
    names = {name.strip().lower(): i for i, name in enumerate(header)}
    columns, used = {}, set()
    for target in known:
        source = mapping.get(target, target)
        index = names.get(source.lower())
        if index is None and target in mapping:
            raise InvalidInput(f"column {source!r} (mapped to {target}) is not in the header")
        if index is not None:
            columns[target] = index
            used.add(index)
    for options in REQUIRED[kind]:
        if not any(name in columns for name in options):
            hint = f"map one with --map {options[0]}=COLUMN"
            raise InvalidInput(f"missing required column {' or '.join(options)} ({hint})")
    spare = {
        name.strip(): i
        for i, name in enumerate(header)
        if i not in used and name.strip() and name.strip() not in REJECT_COLUMNS
    }
    if attributes and kind == "customers":
        return Layout(columns, spare)
    return Layout(columns, {}, tuple(spare))


def ignored_warning(kind: str, ignored: tuple[str, ...]) -> str | None:
    """One line naming the columns an import drops, and how to keep them."""
    if not ignored:
        return None
    names = ", ".join(ignored)
    noun = "column" if len(ignored) == 1 else "columns"
    keep = "import them as attributes with --attributes, or " if kind == "customers" else ""
    unknown = f"unknown to a {kind} import"
    return f"ignoring {noun} {names} ({unknown}): {keep}map one with --map TARGET=COLUMN"


def cell_errors(row: int, header: list[str], cells: list[str]) -> list[RowError]:
    """What makes a row unreadable whatever its values: width, NUL characters, bad UTF-8."""
    errors = []
    if len(cells) > len(header):
        errors.append(RowError(row, "", f"has {len(cells)} cells, the header {len(header)}"))
    elif len(cells) < len(header):
        errors.append(
            RowError(row, "", f"has {len(cells)} cells, the header {len(header)} (cut short?)")
        )
    joined = "".join(cells)
    if "\x00" not in joined and not _UNDECODABLE.search(joined):
        return errors
    for i, cell in enumerate(cells):
        name = header[i].strip() if i < len(header) else ""
        if "\x00" in cell:
            errors.append(RowError(row, name, "contains a NUL character"))
        if _UNDECODABLE.search(cell):
            errors.append(RowError(row, name, "is not valid UTF-8"))
    return errors


def checked(errors: list[RowError], row: int, column: str, action: Callable):
    """Run a parsing step, turning InvalidInput into a RowError; returns its result or None."""
    try:
        return action()
    except InvalidInput as exc:
        errors.append(RowError(row, column, exc.message))
        return None


def check_lengths(errors: list[RowError], row: int, values: dict[str, str]) -> None:
    """Refuse values longer than their column."""
    for name, value in values.items():
        limit = MAX_LENGTH.get(name, 10_000)
        if len(value) > limit:
            errors.append(RowError(row, name, f"longer than {limit} characters"))


def parse_int(text: str, column: str, *, low: int = 0, high: int = MAX_CENTS) -> int:
    """Parse an integer in [low, high]."""
    if not _INT.match(text):
        raise InvalidInput(f"{column} must be a whole number, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"{column} must be between {low} and {high}, got {value}")
    return value


def parse_money(values: dict[str, str], decimal_column: str, currency: str) -> int | None:
    """Minor units from `<name>_cents` or the decimal `<name>` column, or None if neither."""
    cents_column = f"{decimal_column}_cents"
    if cents_column in values:
        return parse_int(values[cents_column], cents_column)
    if decimal_column not in values:
        return None
    return to_cents(values[decimal_column], currency, decimal_column)


def to_cents(text: str, currency: str, column: str) -> int:
    """Minor units of a decimal amount in [0, MAX_CENTS]; 1e308 is refused, not a crash."""
    try:
        cents = to_minor_units(text, currency, name=column)
    except ArithmeticError:  # decimal.InvalidOperation: too many digits for any money column
        cents = -1
    if not 0 <= cents <= MAX_CENTS:
        raise InvalidInput(f"{column} must be between 0 and {MAX_CENTS // 100}")
    return cents


def parse_timestamp(text: str, column: str) -> datetime:
    """Parse an ISO-8601 timestamp with a zone (a bare date means midnight UTC) to UTC."""
    if _DATE.match(text):
        text += "T00:00:00+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{column} is not an ISO-8601 timestamp: {text!r}")
    if value.tzinfo is None:
        raise InvalidInput(
            f"{column} has no time zone: write it like "
            "2025-01-31T10:00:00+00:00 (a bare date means midnight UTC)"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{column} is out of range in UTC: {text!r}")


def parse_consent(text: str) -> str:
    """A consent status from a word such as granted, yes, no, unsubscribed."""
    status = CONSENT_WORDS.get(text.strip().lower())
    if status is None:
        raise InvalidInput(
            f"consent must be one of granted, denied, unsubscribed, unknown "
            f"(or yes/no), got {text!r}"
        )
    return status


def customer_record(
    row: int, values: dict[str, str], extras: dict[str, str]
) -> Record | list[RowError]:
    """A customer from one CSV row; empty cells leave stored fields unchanged."""
    errors: list[RowError] = []
    check_lengths(errors, row, values)
    profile: dict = {
        name: values[name]
        for name in ("phone", "first_name", "last_name", "locale", "time_zone")
        if name in values
    }
    if "email" in values:
        profile["email"] = checked(errors, row, "email", lambda: check_email(values["email"]))
    if "birthday" in values:
        profile["birthday"] = checked(
            errors, row, "birthday", lambda: parse_birthday(values["birthday"])
        )
    if "consent_email" in values:
        status = checked(
            errors, row, "consent_email", lambda: parse_consent(values["consent_email"])
        )
        confirmed = values["consent_email"].strip().lower() == "confirmed"
        source = "import_confirmed" if confirmed else "import"
        profile.update(consent={"email": status}, consent_source=source)
    if extras:
        profile["attributes"] = extras
    if "external_id" not in values:
        errors.append(RowError(row, "external_id", "is empty"))
    return errors or Record((row,), CustomerRow(values["external_id"], profile))


def product_record(row: int, values: dict[str, str]) -> Record | list[RowError]:
    """A product from one CSV row."""
    errors: list[RowError] = []
    check_lengths(errors, row, values)
    currency = (
        checked(errors, row, "currency", lambda: check_currency(values.get("currency", "USD")))
        or "USD"
    )
    price = checked(errors, row, "price", lambda: parse_money(values, "price", currency))
    if "sku" not in values:
        errors.append(RowError(row, "sku", "is empty"))
    if price is None and not errors:
        errors.append(RowError(row, "price", "is empty"))
    if errors:
        return errors
    return Record(
        (row,),
        ProductRow(
            values["sku"],
            values.get("name", values["sku"]),
            values.get("category"),
            price,
            currency,
        ),
    )
