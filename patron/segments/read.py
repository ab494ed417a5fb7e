"""The published read model of segments: what other capabilities may query (never write)."""

from patron.segments.tables import Segment, SegmentMembership

__all__ = ["Segment", "SegmentMembership"]
