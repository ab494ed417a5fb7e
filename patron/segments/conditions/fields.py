"""Field conditions: a whitelisted field, an operator allowed for its kind, and a checked value."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from numbers import Real
from typing import Any, ClassVar

from pydantic import Field as ModelField
from pydantic import ValidationInfo, field_validator

from patron.segments.conditions.registry import (
    MAX_DAYS,
    MAX_TEXT,
    ConditionModel,
    ConditionType,
    check_days,
)

OPS: dict[str, dict[str, str]] = {
    "string": {
        "eq": "is",
        "ne": "is not",
        "in": "is one of",
        "not_in": "is none of",
        "contains": "contains",
        "starts_with": "starts with",
        "is_set": "is set",
        "not_set": "is not set",
    },
    "number": {
        "eq": "=",
        "ne": "≠",
        "gt": ">",
        "gte": "≥",
        "lt": "<",
        "lte": "≤",
        "is_set": "is set",
        "not_set": "is not set",
    },
    "datetime": {
        "within_days": "in the last N days",
        "before_days": "more than N days ago",
        "after": "on or after",
        "before": "before",
        "is_set": "is set",
        "not_set": "is not set",
    },
    "date": {
        "next_days": "in the next N days",
        "this_month": "is this month",
        "after": "on or after",
        "before": "before",
        "is_set": "is set",
        "not_set": "is not set",
    },
}
# Negative operators are the exact negation of a positive one (a missing value matches them).
NEGATED = {"ne": "eq", "not_in": "in", "not_set": "is_set"}
NO_VALUE = {"is_set", "not_set", "this_month"}
DAY_OPS = {"within_days", "before_days", "next_days"}
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as SQLite's lower() does."""
    return text.translate(ASCII_LOWER)


@dataclass(frozen=True)
class Field:
    """A filterable value: its name, kind, bounds and Python getter (SQL: sql/fields.py)."""

    name: str
    label: str
    kind: str
    get: Callable[[Any], Any]
    minimum: float = -(10**13)
    maximum: float = 10**13
    integer: bool = True
    # How people enter and read the value: "money" (stored in cents, entered in currency) or
    # "percent" (stored as a share 0-1, entered as 0-100); None: as stored.
    unit: str | None = None
    # A closed list of (stored value, label) the builder offers as a pick list; () if open.
    options: tuple[tuple[Any, str], ...] = ()


def parse_moment(value: Any) -> datetime:
    """An ISO date or datetime as aware UTC (dates mean midnight UTC)."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO date such as 2025-01-31")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO date such as 2025-01-31")
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC")


def _check_number(field: Field, value: Any) -> float | int:
    """A number within the field's bounds (an integer for integer fields)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if field.integer and not float(value).is_integer():
        raise ValueError("must be a whole number")
    if not field.minimum <= value <= field.maximum:
        raise ValueError(f"must be between {field.minimum:g} and {field.maximum:g}")
    return int(value) if field.integer else float(value)


def _check_string(value: Any) -> str:
    """A non-empty string of at most 255 characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise ValueError(f"must be a text of 1 to {MAX_TEXT} characters")
    return value


def check_value(field: Field, op: str, value: Any) -> Any:
    """The value normalised for field and op, or ValueError saying what is wrong."""
    if op in NO_VALUE:
        if value is not None:
            raise ValueError(f"operator {op} takes no value")
        return None
    if value is None:
        raise ValueError("a value is required")
    if op in DAY_OPS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number of days")
        check_days(value)
        if op == "next_days" and value > 366:
            raise ValueError("must be between 0 and 366")
        return value
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not 1 <= len(value) <= 500:
            raise ValueError("must be a list of 1 to 500 values")
        return [
            _check_string(v) if field.kind == "string" else _check_number(field, v) for v in value
        ]
    if field.kind in ("datetime", "date"):
        moment = parse_moment(value)
        return moment.date().isoformat() if field.kind == "date" else moment.isoformat()
    if field.kind == "number":
        return _check_number(field, value)
    return _check_string(value)


class FieldCondition(ConditionModel):
    """A condition on one whitelisted field of a subclass's FIELDS."""

    FIELDS: ClassVar[dict[str, Field]] = {}

    field: str
    op: str
    # Validated when absent too: "Orders ≥" with no number yet is a 422 naming the value.
    value: Any = ModelField(None, validate_default=True)

    @field_validator("field")
    @classmethod
    def _known_field(cls, name: str) -> str:
        """Only whitelisted fields."""
        if name not in cls.FIELDS:
            raise ValueError(f"unknown field {name!r}; choose one of {', '.join(cls.FIELDS)}")
        return name

    @field_validator("op")
    @classmethod
    def _known_op(cls, op: str, info: ValidationInfo) -> str:
        """Only operators the field's kind allows."""
        field = cls.FIELDS.get(info.data.get("field", ""))
        if field is not None and op not in OPS[field.kind]:
            raise ValueError(
                f"operator {op!r} does not apply to {field.label}; choose one of "
                f"{', '.join(OPS[field.kind])}"
            )
        return op

    @field_validator("value")
    @classmethod
    def _checked_value(cls, value: Any, info: ValidationInfo) -> Any:
        """A value of the type and range the field and operator need."""
        field = cls.FIELDS.get(info.data.get("field", ""))
        op = info.data.get("op")
        if field is None or op is None:
            return value
        return check_value(field, op, value)


def _dt(value: str) -> datetime:
    """A stored ISO datetime value as aware UTC."""
    return parse_moment(value)


def birthday_window(now: datetime, days: int) -> tuple[int, int, bool] | None:
    """Month-day bounds (start, end, wraps) of birthdays in [today, today + days]; None: all.

    A 29 February birthday is celebrated on 28 February in non-leap years.
    """
    if days >= 365:
        return None
    start, end = now.date(), now.date() + timedelta(days=days)
    first, last = start.month * 100 + start.day, end.month * 100 + end.day
    if last == 228 and not calendar.isleap(end.year):
        last = 229
    return first, last, end.year != start.year


def py_predicate(field: Field, facts: Any, op: str, value: Any, now: datetime) -> bool:
    """The same predicate in plain Python."""
    if op in NEGATED:
        return not py_predicate(field, facts, NEGATED[op], value, now)
    actual = field.get(facts)
    if actual is None:
        return False
    if op == "is_set":
        return actual != "" if field.kind == "string" else True
    return _py_positive(field.kind, actual, op, value, now)


def _celebrates(birthday: date, day: date) -> bool:
    """Whether a birthday falls on day (29 February on 28 February in non-leap years)."""
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    return (
        (birthday.month, birthday.day) == (2, 29)
        and (day.month, day.day) == (2, 28)
        and not calendar.isleap(day.year)
    )


def _py_positive(kind: str, actual: Any, op: str, value: Any, now: datetime) -> bool:
    """The comparison itself, for a present value."""
    checks = {
        "eq": lambda: actual == value,
        "gt": lambda: actual > value,
        "gte": lambda: actual >= value,
        "lt": lambda: actual < value,
        "lte": lambda: actual <= value,
        "in": lambda: actual in value,
        "contains": lambda: ascii_lower(value) in ascii_lower(actual),
        "starts_with": lambda: ascii_lower(actual).startswith(ascii_lower(value)),
        "within_days": lambda: actual >= now - timedelta(days=value),
        "before_days": lambda: actual < now - timedelta(days=value),
        "this_month": lambda: actual.month == now.month,
        "next_days": lambda: any(
            _celebrates(actual, now.date() + timedelta(days=d))
            for d in range(min(value, MAX_DAYS) + 1)
        ),
    }
    if op in ("after", "before"):
        bound = date.fromisoformat(value) if kind == "date" else _dt(value)
        return actual >= bound if op == "after" else actual < bound
    return checks[op]()


def show_value(field: Field, value: Any) -> str:
    """A stored value as people read it: money in currency, shares as percents, option labels."""
    if value is None:
        return "–"
    labels = dict(field.options)
    if not isinstance(value, list | dict) and value in labels:
        return labels[value]
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if field.unit == "money":
            return f"{number / 100:,.2f}"
        if field.unit == "percent":
            return f"{number * 100:.4g}%"
        return f"{number:,.0f}" if number.is_integer() else f"{number:.4g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def describe_field(field: Field, op: str, value: Any) -> str:
    """A human sentence for `field op value`."""
    words = OPS[field.kind][op]
    if op in NO_VALUE:
        return f"{field.label} {words}"
    if op in DAY_OPS:
        return f"{field.label} {words.replace('N', str(value))}"
    if field.kind in ("datetime", "date"):
        shown = value
    elif isinstance(value, list):
        shown = ", ".join(show_value(field, v) for v in value)
    else:
        shown = show_value(field, value)
    return f"{field.label} {words} {shown}"


def field_catalogue(kind_name: str, group: str, fields: dict[str, Field]) -> list[dict]:
    """Builder entries for every field of a field-based condition type."""
    return [
        {
            "key": f"{kind_name}.{f.name}",
            "group": group,
            "label": f.label,
            "template": {"type": kind_name, "field": f.name},
            "params": [
                {
                    "name": "op",
                    "input": "select",
                    "label": "operator",
                    "options": [[op, words] for op, words in OPS[f.kind].items()],
                },
                _value_param(f),
            ],
        }
        for f in fields.values()
    ]


def _value_param(field: Field) -> dict:
    """The builder's value input of a field: its type, unit and pick list."""
    param = {
        "name": "value",
        "input": _input_for(field),
        "label": "value",
        "hide_for": sorted(NO_VALUE),
        "list_for": ["in", "not_in"],
        "days_for": sorted(DAY_OPS),
    }
    if field.unit:
        param["unit"] = field.unit
    if field.options:
        param["options"] = [[value, label] for value, label in field.options]
    return param


def _input_for(field: Field) -> str:
    """The HTML input type of a field's value."""
    return {"number": "number", "datetime": "date", "date": "date"}.get(field.kind, "text")


def field_condition_type(
    name: str,
    label: str,
    model: type,
    fields: dict[str, Field],
    *,
    activity: bool,
    catalogue: Callable[[], list[dict]] | None = None,
) -> ConditionType:
    """The condition type of a family of plain fields: one comparison on one whitelisted field."""
    return ConditionType(
        name=name,
        label=label,
        model=model,
        evaluate=lambda c, facts, ectx: py_predicate(
            fields[c.field], facts, c.op, c.value, ectx.now
        ),
        describe=lambda c: describe_field(fields[c.field], c.op, c.value),
        activity=activity,
        catalogue=catalogue or (lambda: field_catalogue(name, label, fields)),
    )
