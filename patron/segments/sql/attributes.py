"""SQL of attribute conditions: a filter on the customers' attributes JSON column."""

from __future__ import annotations

from patron.segments.sql.jsonvalues import json_sql

COMPILERS = {"attribute": lambda c, ctx: json_sql(ctx.customers.c.attributes, c)}
