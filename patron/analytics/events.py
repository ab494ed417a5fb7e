"""Typed domain events of customer intelligence."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent

LIFECYCLE_CHANGED = "lifecycle.changed"  # appended set-based: customer, from_stage, to_stage


@dataclass(frozen=True)
class ScoresRefreshed(DomainEvent):
    """A refresh wrote every customer's scores (customer_id is None)."""

    type = "scores.refreshed"
    computed_at: str
    customers: int
    buyers: int
    stage_changes: int
    model: str | None


EVENT_TYPES = (LIFECYCLE_CHANGED, ScoresRefreshed.type)
