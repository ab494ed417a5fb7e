"""Score conditions on what `patron refresh` computed: RFM, lifecycle stage, P(alive), CLV."""

from __future__ import annotations

from typing import Literal

from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_catalogue,
    field_condition_type,
)
from patron.segments.conditions.registry import MAX_CENTS, register

LIFECYCLE_STAGES = ("new", "loyal", "occasional", "at_risk", "former", "ambassador")


def _score(
    name: str,
    label: str,
    kind: str = "number",
    minimum: float = 0,
    maximum: float = MAX_CENTS,
    integer: bool = True,
) -> Field:
    """A nullable score (customers never scored match no positive op)."""
    return Field(
        name,
        label,
        kind,
        minimum=minimum,
        maximum=maximum,
        integer=integer,
        get=lambda facts: facts.scores.get(name),
    )


FIELDS = {
    f.name: f
    for f in (
        _score("lifecycle_stage", "Lifecycle stage", "string"),
        _score("rfm_segment", "RFM segment", "string"),
        _score("recency_score", "Recency score", maximum=100),
        _score("frequency_score", "Frequency score", maximum=100),
        _score("monetary_score", "Monetary score", maximum=100),
        _score("p_alive", "P(alive)", maximum=1, integer=False),
        _score("churn_risk", "Churn risk", maximum=1, integer=False),
        _score(
            "expected_purchases_90d", "Expected purchases (90 days)", maximum=1e6, integer=False
        ),
        _score("expected_spend_cents", "Expected spend (cents)"),
        _score("predicted_clv_cents", "Predicted CLV (cents)", minimum=-MAX_CENTS),
        _score("clv_percentile", "CLV percentile", maximum=100, integer=False),
    )
}


class ScoreCondition(FieldCondition):
    """`{"type": "score", "field": "lifecycle_stage", "op": "eq", "value": "loyal"}`."""

    FIELDS = FIELDS
    type: Literal["score"]


def _catalogue() -> list[dict]:
    """Builder entries; the lifecycle stage offers the known stages."""
    entries = field_catalogue("score", "Scores", FIELDS)
    for entry in entries:
        if entry["template"]["field"] == "lifecycle_stage":
            entry["params"][1]["suggest"] = list(LIFECYCLE_STAGES)
    return entries


register(
    field_condition_type(
        "score", "Scores", ScoreCondition, FIELDS, activity=False, catalogue=_catalogue
    )
)
