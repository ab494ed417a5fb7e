"""SQL of score conditions: a nullable column of the outer-joined customer_scores."""

from __future__ import annotations

from sqlalchemy import Integer, literal_column

from patron.analytics.read import CustomerScore
from patron.segments.conditions.scores import FIELDS
from patron.segments.sql.fields import FieldSql, field_compiler

SCORES = CustomerScore.__table__


def _column(name: str) -> FieldSql:
    """A column of customer_scores (customers never scored read NULL)."""
    return FieldSql(column=lambda ctx: ctx.outer_join("scores", SCORES).c[name])


def _fm(ctx):
    """FM = (F + M + 1) // 2 in integers (NULL when unscored), as the RFM grid groups."""
    c = ctx.outer_join("scores", SCORES).c
    # A plain "/" of integers: integer division on both databases, NULL-safe (SQLAlchemy's
    # "//" wraps it in FLOOR, which SQLite's Python function refuses NULL for).
    total = c.frequency_score + c.monetary_score + literal_column("1")
    return total.self_group().op("/", return_type=Integer)(literal_column("2"))


COLUMNS = {name: _column(name) for name in FIELDS if name != "fm_score"}
COMPILERS = {"score": field_compiler(FIELDS, {**COLUMNS, "fm_score": FieldSql(column=_fm)})}
