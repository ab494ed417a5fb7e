"""SQL of score conditions: a nullable column of the outer-joined customer_scores."""

from __future__ import annotations

from patron.analytics.read import CustomerScore
from patron.segments.conditions.scores import FIELDS
from patron.segments.sql.fields import FieldSql, field_compiler

SCORES = CustomerScore.__table__


def _column(name: str) -> FieldSql:
    """A column of customer_scores (customers never scored read NULL)."""
    return FieldSql(column=lambda ctx: ctx.outer_join("scores", SCORES).c[name])


COMPILERS = {"score": field_compiler(FIELDS, {name: _column(name) for name in FIELDS})}
