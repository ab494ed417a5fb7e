"""Domain events of advocates: community activity turned into an event per act."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent

COMMUNITY_ACTIVITY = "community.activity"


@dataclass(frozen=True)
class CommunityActivity(DomainEvent):
    """A customer posted, was liked or acted otherwise in the community."""

    type = COMMUNITY_ACTIVITY
    kind: str = ""
    source: str = ""
    external_id: str = ""


EVENT_TYPES = (COMMUNITY_ACTIVITY,)
