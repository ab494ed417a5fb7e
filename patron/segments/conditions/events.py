"""Event conditions: performed event X at least / at most / exactly N times in the last D days."""

from __future__ import annotations

import operator
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from patron.segments.conditions.jsonvalues import JsonFilter, describe_json, json_py
from patron.segments.conditions.registry import (
    ConditionModel,
    ConditionType,
    check_count,
    check_days,
    check_text,
    register,
)

COMPARE = {"at_least": operator.ge, "at_most": operator.le, "exactly": operator.eq}
COUNT_OPS = {"at_least": "at least", "at_most": "at most", "exactly": "exactly"}


class EventCondition(ConditionModel):
    """`{"type": "event", "name": "viewed_product", "op": "at_least", "count": 2,
    "within_days": 30, "where": [{"key": "category", "op": "eq", "value": "shoes"}]}`."""

    type: Literal["event"]
    name: str
    op: Literal["at_least", "at_most", "exactly"] = "at_least"
    count: int = 1
    within_days: int | None = None
    where: list[JsonFilter] = Field(default_factory=list)

    _name = field_validator("name")(classmethod(lambda cls, v: check_text(v)))
    _count = field_validator("count")(classmethod(lambda cls, v: check_count(v)))
    _days = field_validator("within_days")(classmethod(lambda cls, v: check_days(v)))

    @field_validator("where")
    @classmethod
    def _few_filters(cls, where: list[JsonFilter]) -> list[JsonFilter]:
        """At most 10 property filters."""
        if len(where) > 10:
            raise ValueError("at most 10 property filters")
        return where


def _evaluate(cond: EventCondition, facts, ectx) -> bool:
    """Count matching events in plain Python."""
    since = None if cond.within_days is None else ectx.now - timedelta(days=cond.within_days)
    n = sum(
        1
        for e in facts.events
        if e.name == cond.name
        and (since is None or e.occurred_at >= since)
        and all(json_py(e.properties, flt) for flt in cond.where)
    )
    return COMPARE[cond.op](n, cond.count)


def _describe(cond: EventCondition) -> str:
    """'performed viewed_product at least 2 times in the last 30 days where …'."""
    text = f"performed {cond.name} {COUNT_OPS[cond.op]} {cond.count} times"
    if cond.within_days is not None:
        text += f" in the last {cond.within_days} days"
    if cond.where:
        text += " where " + " and ".join(describe_json("property", f) for f in cond.where)
    return text


def _catalogue() -> list[dict]:
    """One builder entry: event name, how often, window, one optional property filter."""
    return [
        {
            "key": "event",
            "group": "Events",
            "label": "Performed event",
            "template": {"type": "event"},
            "params": [
                {"name": "name", "input": "text", "label": "event name"},
                {
                    "name": "op",
                    "input": "select",
                    "label": "how often",
                    "options": [[k, v] for k, v in COUNT_OPS.items()],
                },
                {"name": "count", "input": "number", "label": "times", "default": 1},
                {
                    "name": "within_days",
                    "input": "number",
                    "optional": True,
                    "label": "in the last … days (optional)",
                },
                {
                    "name": "where.0.key",
                    "input": "text",
                    "optional": True,
                    "label": "property (optional)",
                },
                {
                    "name": "where.0.value",
                    "input": "text",
                    "optional": True,
                    "label": "equals",
                    "fixed": {"where.0.op": "eq"},
                },
            ],
        }
    ]


register(
    ConditionType(
        name="event",
        label="Performed event",
        model=EventCondition,
        evaluate=_evaluate,
        describe=_describe,
        activity=True,
        catalogue=_catalogue,
    )
)
