"""Score conditions on what `patron refresh` computed: RFM, lifecycle stage, P(alive), CLV."""

from __future__ import annotations

from typing import Literal

from patron.analytics.lifecycle import STAGES as LIFECYCLE_STAGES
from patron.analytics.rfm import LOYAL_HELP as RFM_HELP
from patron.analytics.rfm import SEGMENTS as RFM_SEGMENTS
from patron.analytics.rfm import segment_label
from patron.segments.conditions.fields import (
    Field,
    FieldCondition,
    field_catalogue,
    field_condition_type,
)
from patron.segments.conditions.registry import MAX_CENTS, register

STAGE_OPTIONS = tuple((stage, stage.replace("_", " ")) for stage in LIFECYCLE_STAGES)
RFM_OPTIONS = tuple((name, segment_label(name)) for name in RFM_SEGMENTS)
SCORE_OPTIONS = tuple((n, str(n)) for n in range(1, 6))


def _score(
    name: str,
    label: str,
    kind: str = "number",
    minimum: float = 0,
    maximum: float = MAX_CENTS,
    integer: bool = True,
    **extra,
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
        **extra,
    )


def fm_score(scores: dict) -> int | None:
    """FM = ceil((F + M) / 2), the column of the RFM grid (None when unscored)."""
    f, m = scores.get("frequency_score"), scores.get("monetary_score")
    return None if f is None or m is None else (f + m + 1) // 2


FIELDS = {
    f.name: f
    for f in (
        _score("lifecycle_stage", "Lifecycle stage", "string", options=STAGE_OPTIONS),
        _score("rfm_segment", "RFM segment", "string", options=RFM_OPTIONS),
        _score("recency_score", "Recency score (R)", maximum=100, options=SCORE_OPTIONS),
        _score("frequency_score", "Frequency score (F)", maximum=100, options=SCORE_OPTIONS),
        _score("monetary_score", "Monetary score (M)", maximum=100, options=SCORE_OPTIONS),
        Field(
            "fm_score",
            "FM score (RFM grid column)",
            "number",
            minimum=0,
            maximum=100,
            options=SCORE_OPTIONS,
            get=lambda facts: fm_score(facts.scores),
        ),
        _score("p_alive", "P(alive)", maximum=1, integer=False, unit="percent"),
        _score("churn_risk", "Churn risk", maximum=1, integer=False, unit="percent"),
        _score(
            "expected_purchases_90d", "Expected purchases (90 days)", maximum=1e6, integer=False
        ),
        _score("expected_spend_cents", "Expected spend per purchase", unit="money"),
        _score("predicted_clv_cents", "Predicted CLV", minimum=-MAX_CENTS, unit="money"),
        _score("clv_percentile", "CLV percentile", maximum=100, integer=False),
    )
}


class ScoreCondition(FieldCondition):
    """`{"type": "score", "field": "lifecycle_stage", "op": "eq", "value": "loyal"}`."""

    FIELDS = FIELDS
    type: Literal["score"]


def _catalogue() -> list[dict]:
    """Builder entries; closed lists (stages, RFM segments, scores 1-5) are pick lists."""
    entries = field_catalogue("score", "Scores", FIELDS)
    for entry in entries:
        if entry["template"]["field"] in ("lifecycle_stage", "rfm_segment"):
            entry["help"] = RFM_HELP
    return entries


register(
    field_condition_type(
        "score", "Scores", ScoreCondition, FIELDS, activity=False, catalogue=_catalogue
    )
)
