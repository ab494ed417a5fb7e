"""Attribute conditions: a key of the customer's free-form `attributes` JSON."""

from __future__ import annotations

from typing import Literal

from patron.segments.conditions.jsonvalues import JSON_OPS, JsonFilter, describe_json, json_py
from patron.segments.conditions.registry import ConditionType, register


class AttributeCondition(JsonFilter):
    """`{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}`."""

    type: Literal["attribute"]


def _catalogue() -> list[dict]:
    """One builder entry: key, operator, value."""
    return [
        {
            "key": "attribute",
            "group": "Profile",
            "label": "Attribute…",
            "template": {"type": "attribute"},
            "params": [
                {"name": "key", "input": "text", "label": "attribute"},
                {
                    "name": "op",
                    "input": "select",
                    "label": "operator",
                    "options": [[op, words] for op, words in JSON_OPS.items()],
                },
                {
                    "name": "value",
                    "input": "json",
                    "label": "value",
                    "hide_for": ["is_set", "not_set"],
                    "list_for": ["in", "not_in"],
                },
            ],
        }
    ]


register(
    ConditionType(
        name="attribute",
        label="Attribute",
        model=AttributeCondition,
        evaluate=lambda c, facts, ectx: json_py(facts.attributes, c),
        describe=lambda c: describe_json("attribute", c),
        activity=False,
        catalogue=_catalogue,
    )
)
