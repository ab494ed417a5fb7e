"""Condition types of the rule tree; a new capability adds one module and one import here."""

from patron.segments.conditions import (  # noqa: F401  (each module registers its type)
    attributes,
    consent,
    events,
    membership,
    orders,
    profile,
    purchases,
    scores,
)
from patron.segments.conditions.registry import (
    REGISTRY,
    ConditionType,
    ContributedCondition,
    condition_type,
    condition_types,
    contributed,
)

__all__ = [
    "REGISTRY",
    "ConditionType",
    "ContributedCondition",
    "condition_type",
    "condition_types",
    "contributed",
]
