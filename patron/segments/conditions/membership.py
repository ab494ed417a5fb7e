"""Membership conditions: the customer matches another saved segment (inlined, no cycles)."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from patron.segments.conditions.registry import ConditionModel, ConditionType, register


class SegmentCondition(ConditionModel):
    """`{"type": "segment", "segment_id": 3}`: matches the rules of segment 3 right now."""

    type: Literal["segment"]
    segment_id: int

    @field_validator("segment_id")
    @classmethod
    def _positive(cls, value: int) -> int:
        """Segment ids are positive."""
        if value <= 0:
            raise ValueError("must be a positive segment id")
        return value


register(
    ConditionType(
        name="segment",
        label="In segment",
        model=SegmentCondition,
        evaluate=lambda c, facts, ectx: ectx.evaluate_segment(c.segment_id, facts),
        describe=lambda c: f"in segment #{c.segment_id}",
        activity=False,  # decided by the referenced tree: see rules.activity_driven
        catalogue=lambda: [
            {
                "key": "segment",
                "group": "Segments",
                "label": "In segment",
                "template": {"type": "segment"},
                "params": [{"name": "segment_id", "input": "segment", "label": "segment"}],
            }
        ],
    )
)
