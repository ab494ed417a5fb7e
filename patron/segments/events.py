"""Typed domain events of segments: customers entering and leaving saved segments."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent


@dataclass(frozen=True)
class SegmentEntered(DomainEvent):
    """A customer became a member of a saved segment."""

    type = "segment.entered"
    segment_id: int
    segment_name: str


@dataclass(frozen=True)
class SegmentExited(DomainEvent):
    """A customer stopped being a member of a saved segment."""

    type = "segment.exited"
    segment_id: int
    segment_name: str


EVENT_TYPES = (SegmentEntered.type, SegmentExited.type)
