"""Portable SQL functions the conditions need: JSON value kind and a birthday's month-day."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_SQLITE_KINDS = (
    ("integer", "number"),
    ("real", "number"),
    ("text", "string"),
    ("true", "true"),
    ("false", "false"),
    ("null", "null"),
    ("object", "object"),
    ("array", "array"),
)


class json_kind(FunctionElement):
    """Kind of json_column[key]: string, number, true, false, null, object, array or missing.

    Arguments: the JSON column and the key as a bound parameter.
    """

    type = String()
    inherit_cache = True


@compiles(json_kind, "sqlite")
def _json_kind_sqlite(element, compiler, **kw):
    """SQLite: json_type() of the '$."key"' path, mapped onto the portable kind names."""
    column, key = list(element.clauses)
    path = f"""('$."' || {compiler.process(key, **kw)} || '"')"""
    whens = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in _SQLITE_KINDS)
    return (
        f"coalesce(CASE json_type({compiler.process(column, **kw)}, {path}) {whens} END, 'missing')"
    )


@compiles(json_kind, "postgresql")
def _json_kind_pg(element, compiler, **kw):
    """PostgreSQL: jsonb_typeof(), with booleans split into true and false."""
    column, key = list(element.clauses)
    value = f"({compiler.process(column, **kw)} -> {compiler.process(key, **kw)})"
    return (
        f"coalesce(CASE jsonb_typeof({value}) WHEN 'string' THEN 'string' "
        f"WHEN 'number' THEN 'number' WHEN 'null' THEN 'null' WHEN 'object' THEN 'object' "
        f"WHEN 'array' THEN 'array' WHEN 'boolean' THEN ({value} #>> '{{}}') END, 'missing')"
    )


class month_day(FunctionElement):
    """month * 100 + day of a date column (e.g. 1231 for 31 December)."""

    type = Integer()
    inherit_cache = True


@compiles(month_day, "sqlite")
def _month_day_sqlite(element, compiler, **kw):
    """SQLite stores dates as ISO text."""
    (column,) = list(element.clauses)
    return f"CAST(strftime('%m%d', {compiler.process(column, **kw)}) AS INTEGER)"


@compiles(month_day, "postgresql")
def _month_day_pg(element, compiler, **kw):
    """PostgreSQL: from the date parts."""
    (column,) = list(element.clauses)
    col = compiler.process(column, **kw)
    return f"CAST(EXTRACT(MONTH FROM {col}) * 100 + EXTRACT(DAY FROM {col}) AS INTEGER)"
