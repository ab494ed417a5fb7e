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
from patron.segments.conditions.registry import REGISTRY, ConditionType, condition_type

__all__ = ["REGISTRY", "ConditionType", "condition_type"]
