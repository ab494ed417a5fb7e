"""SQL of filters on a key of a JSON column (customer attributes, event properties)."""

from __future__ import annotations

from sqlalchemy import and_, case, false, func, literal, not_, or_

from patron.segments.conditions.fields import NEGATED, ascii_lower
from patron.segments.conditions.jsonvalues import NUMBER_OPS, JsonFilter
from patron.segments.sql.funcs import json_kind


def json_sql(column, flt: JsonFilter):
    """Two-valued SQL boolean for a filter on column[key]."""
    if flt.op in NEGATED:
        return not_(json_sql(column, JsonFilter(key=flt.key, op=NEGATED[flt.op], value=flt.value)))
    kind = json_kind(column, literal(flt.key))
    text = column[flt.key].as_string()
    number = case((kind == "number", column[flt.key].as_float()), else_=None)
    op, value = flt.op, flt.value
    if op in NUMBER_OPS or (op == "eq" and not isinstance(value, str | bool)):
        value = float(value)  # an int bound first would type the parameter as an integer
    if op == "is_set":
        return kind.not_in(["missing", "null"])
    if op == "eq":
        if isinstance(value, bool):
            return kind == ("true" if value else "false")
        if isinstance(value, str):
            # The comparison first: it fails for most rows, sparing the kind check's JSON parse.
            return and_(text == value, kind == "string")
        return and_(kind == "number", number == value)
    if op == "in":
        strings = [v for v in value if isinstance(v, str)]
        numbers = [float(v) for v in value if not isinstance(v, str)]
        return or_(
            and_(text.in_(strings), kind == "string") if strings else false(),
            and_(kind == "number", number.in_(numbers)) if numbers else false(),
        )
    if op in ("contains", "starts_with"):
        lowered, needle = func.lower(text), ascii_lower(value)
        like = (
            lowered.contains(needle, autoescape=True)
            if op == "contains"
            else lowered.startswith(needle, autoescape=True)
        )
        return and_(kind == "string", like)
    if op in ("after", "before"):
        day = func.substr(text, 1, 10)
        return and_(kind == "string", day >= value if op == "after" else day < value)
    cmp = {
        "gt": number > value,
        "gte": number >= value,
        "lt": number < value,
        "lte": number <= value,
    }[op]
    return and_(kind == "number", cmp)
