"""SQL of profile conditions: the customers table's own columns."""

from __future__ import annotations

from patron.segments.conditions.profile import FIELDS
from patron.segments.sql.fields import FieldSql, field_compiler


def _column(name: str) -> FieldSql:
    """A column of the customers table."""
    return FieldSql(column=lambda ctx: ctx.customers.c[name])


COMPILERS = {"profile": field_compiler(FIELDS, {name: _column(name) for name in FIELDS})}
