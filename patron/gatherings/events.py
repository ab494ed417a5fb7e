"""Domain events of gatherings: invited, answered (RSVP) and attended, for segments and journeys."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent

INVITED = "gathering.invited"
RSVP = "gathering.rsvp"
ATTENDED = "gathering.attended"


@dataclass(frozen=True)
class GatheringRsvp(DomainEvent):
    """A guest answered (yes, no, maybe) or moved up from the waitlist; status is the result."""

    type = RSVP
    gathering_id: int = 0
    answer: str = ""
    status: str = ""


@dataclass(frozen=True)
class GatheringAttended(DomainEvent):
    """A guest was there (CSV import, webinar webhook or check-in)."""

    type = ATTENDED
    gathering_id: int = 0
    source: str = ""


EVENT_TYPES = (INVITED, RSVP, ATTENDED)
