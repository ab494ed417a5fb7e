"""Filters on a key of a JSON object (customer attributes, event properties), in Python.

Pure rules; their SQL is patron/segments/sql/jsonvalues.py.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from patron.segments.conditions.fields import NEGATED, ascii_lower, parse_moment
from patron.segments.conditions.registry import MAX_CENTS, MAX_TEXT, check_text

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
JSON_OPS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "after": "is a date on or after",
    "before": "is a date before",
    "is_set": "is set",
    "not_set": "is not set",
}
NUMBER_OPS = {"gt", "gte", "lt", "lte"}


def _scalar(value: Any, *, allow_bool: bool) -> Any:
    """A string, finite number (or boolean when allowed) usable as a JSON comparison value."""
    if isinstance(value, bool):
        if allow_bool:
            return value
        raise ValueError("must be a text or a number")
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_CENTS:
            raise ValueError(f"numbers must be finite and at most {MAX_CENTS:g} in size")
        return value
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    raise ValueError(f"must be a text of at most {MAX_TEXT} characters or a number")


def check_json_value(op: str, value: Any) -> Any:
    """The value normalised for a JSON operator, or ValueError saying what is wrong."""
    if op in ("is_set", "not_set"):
        if value is not None:
            raise ValueError(f"operator {op} takes no value")
        return None
    if value is None:
        raise ValueError("a value is required")
    if op in ("eq", "ne"):
        return _scalar(value, allow_bool=True)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not 1 <= len(value) <= 500:
            raise ValueError("must be a list of 1 to 500 values")
        return [_scalar(v, allow_bool=False) for v in value]
    if op in NUMBER_OPS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number")
        return _scalar(value, allow_bool=False)
    if op in ("after", "before"):
        return parse_moment(value).date().isoformat()
    if not isinstance(value, str):
        raise ValueError("must be a text")
    return check_text(value)


class JsonFilter(BaseModel):
    """`{"key": "plan", "op": "eq", "value": "gold"}` on a JSON object."""

    model_config = ConfigDict(extra="forbid")

    key: str
    op: str
    value: Any = None

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        """Keys are plain names (letters, digits, _ and -)."""
        if not KEY.match(key):
            raise ValueError("must be 1 to 64 letters, digits, _ or -, starting with a letter")
        return key

    @field_validator("op")
    @classmethod
    def _op(cls, op: str) -> str:
        """Only the JSON operators."""
        if op not in JSON_OPS:
            raise ValueError(f"unknown operator {op!r}; choose one of {', '.join(JSON_OPS)}")
        return op

    @field_validator("value")
    @classmethod
    def _value(cls, value: Any, info: ValidationInfo) -> Any:
        """A value of the type the operator needs."""
        op = info.data.get("op")
        return value if op is None else check_json_value(op, value)


def _kind(obj: dict, key: str) -> str:
    """The JSON kind of obj[key], as json_kind names it."""
    if key not in obj:
        return "missing"
    value = obj[key]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "object")


def json_py(obj: dict, flt: JsonFilter) -> bool:
    """The same filter in plain Python."""
    if flt.op in NEGATED:
        return not json_py(obj, JsonFilter(key=flt.key, op=NEGATED[flt.op], value=flt.value))
    kind, op, value = _kind(obj or {}, flt.key), flt.op, flt.value
    actual = (obj or {}).get(flt.key)
    if op == "is_set":
        return kind not in ("missing", "null")
    if op == "eq":
        if isinstance(value, bool):
            return kind == ("true" if value else "false")
        if isinstance(value, str):
            return kind == "string" and actual == value
        return kind == "number" and float(actual) == float(value)
    if op == "in":
        if kind == "string":
            return actual in [v for v in value if isinstance(v, str)]
        return kind == "number" and float(actual) in [
            float(v) for v in value if not isinstance(v, str)
        ]
    if kind == "string" and op == "contains":
        return ascii_lower(value) in ascii_lower(actual)
    if kind == "string" and op == "starts_with":
        return ascii_lower(actual).startswith(ascii_lower(value))
    if kind == "string" and op in ("after", "before"):
        return actual[:10] >= value if op == "after" else actual[:10] < value
    if kind == "number" and op in NUMBER_OPS:
        a = float(actual)
        return {"gt": a > value, "gte": a >= value, "lt": a < value, "lte": a <= value}[op]
    return False


def describe_json(subject: str, flt: JsonFilter) -> str:
    """A human sentence for a JSON filter."""
    words = JSON_OPS[flt.op]
    if flt.value is None:
        return f"{subject} {flt.key} {words}"
    shown = ", ".join(map(str, flt.value)) if isinstance(flt.value, list) else flt.value
    return f"{subject} {flt.key} {words} {shown}"
