"""Message template context of analytics: a customer's scores and lifecycle stage.

Contributed to the `messages.context` extension point; one query for any number of customers.
A customer not scored yet gets the same keys with None, so templates can test for them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.analytics.tables import CustomerScore

FIELDS = (
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rfm_segment",
    "p_alive",
    "churn_risk",
    "expected_purchases_90d",
    "predicted_clv_cents",
    "clv_percentile",
)


def message_context(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """`scores` and `lifecycle_stage` of each customer."""
    ids = list(customer_ids)
    if not ids:
        return {}
    found = {
        s.customer_id: s
        for s in session.scalars(select(CustomerScore).where(CustomerScore.customer_id.in_(ids)))
    }
    context = {}
    for customer_id in ids:
        score = found.get(customer_id)
        context[customer_id] = {
            "scores": {f: getattr(score, f) if score else None for f in FIELDS},
            "lifecycle_stage": score.lifecycle_stage if score else None,
        }
    return context


def sample_context() -> dict:
    """The same keys for a made-up customer."""
    scores = dict.fromkeys(FIELDS)
    scores.update(recency_score=4, frequency_score=2, monetary_score=3, rfm_segment="promising")
    return {"scores": scores, "lifecycle_stage": "active"}


message_context.sample = sample_context
