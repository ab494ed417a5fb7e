"""SQL of field conditions: a field's column (given the compile context) and its comparisons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, not_, or_

from patron.segments.conditions.fields import (
    NEGATED,
    Field,
    ascii_lower,
    birthday_window,
    parse_moment,
)
from patron.segments.sql.funcs import month_day


@dataclass(frozen=True)
class FieldSql:
    """How one field reads in SQL: its column, or a comparison of its own."""

    column: Callable[[Any], Any]
    compare: Callable[[Any, str, Any], Any] | None = None


def sql_predicate(field: Field, sql: FieldSql, ctx: Any, op: str, value: Any) -> Any:
    """Two-valued SQL boolean for `field op value` (NULL values never match a positive op)."""
    if op in NEGATED:
        return not_(sql_predicate(field, sql, ctx, NEGATED[op], value))
    if sql.compare is not None:
        return sql.compare(ctx, op, value)
    col = sql.column(ctx)
    present = col.isnot(None)
    if op == "is_set":
        return and_(present, col != "") if field.kind == "string" else present
    return and_(present, _sql_positive(field.kind, col, op, value, ctx.now))


def _sql_positive(kind: str, col: Any, op: str, value: Any, now: datetime) -> Any:
    """The comparison itself, for a non-NULL column."""
    simple = {
        "eq": col.__eq__,
        "gt": col.__gt__,
        "gte": col.__ge__,
        "lt": col.__lt__,
        "lte": col.__le__,
    }
    if op in simple:
        return simple[op](value)
    if op == "in":
        return col.in_(value)
    if op == "contains":
        return func.lower(col).contains(ascii_lower(value), autoescape=True)
    if op == "starts_with":
        return func.lower(col).startswith(ascii_lower(value), autoescape=True)
    if op == "within_days":
        return col >= now - timedelta(days=value)
    if op == "before_days":
        return col < now - timedelta(days=value)
    if op in ("after", "before"):
        bound = date.fromisoformat(value) if kind == "date" else parse_moment(value)
        return col >= bound if op == "after" else col < bound
    if op == "this_month":
        return month_day(col).between(now.month * 100 + 1, now.month * 100 + 31)
    if op == "next_days":
        window = birthday_window(now, value)
        if window is None:
            return col.isnot(None)
        first, last, wraps = window
        md = month_day(col)
        return or_(md >= first, md <= last) if wraps else md.between(first, last)
    raise ValueError(f"unsupported operator {op}")


def field_compiler(fields: dict[str, Field], sql: dict[str, FieldSql]) -> Callable[[Any, Any], Any]:
    """The compile function of a family of plain fields."""
    return lambda c, ctx: sql_predicate(fields[c.field], sql[c.field], ctx, c.op, c.value)
