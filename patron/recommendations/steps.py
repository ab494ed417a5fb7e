"""The journeys step `recommend`: a post-purchase cross-sell (or personal picks) email.

Contributed to `journeys.steps`. Fields: `template_id` (a message template that shows
`cross_sell` or `recommendations` from the template context) and `kind` (`cross_sell` by
default, or `personal`). Performing it queues the message under the step's key, as the
journey's own send step does, and records which products it showed (the click-through
report's denominator). The message renders at send time, with the latest recommendations.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.journeys.definition import DefinitionError
from patron.journeys.steps import StepType
from patron.messages import service as messages
from patron.recommendations import serving
from patron.recommendations.tables import RecImpression

NAME = "recommend"
STEP_KINDS = ("cross_sell", "personal")
SOURCE = "journey"


def fields(raw: dict, step_id: str) -> dict:
    """Check the step's JSON: a template id and a kind."""
    template_id = raw.get("template_id")
    if not isinstance(template_id, int) or isinstance(template_id, bool) or template_id <= 0:
        raise DefinitionError(step_id, "template_id: a message template id is required")
    kind = raw.get("kind", "cross_sell")
    if kind not in STEP_KINDS:
        raise DefinitionError(step_id, f"kind: choose one of {', '.join(STEP_KINDS)}")
    return {"template_id": template_id, "kind": kind}


def perform(*, session: Session, customer_id: int, fields: dict, key: str, now) -> dict:
    """Queue the recommendation email and record what it shows."""
    version, _, occurrence = key.partition(":")
    shown = serving.for_customer(session=session, customer_id=customer_id, kind=fields["kind"], n=4)
    row, _ = messages.queue_message(
        session=session,
        customer_id=customer_id,
        template_id=fields["template_id"],
        kind="marketing",
        source=SOURCE,
        source_id=int(version) if version.isdigit() else 0,
        occurrence=occurrence[:64],
        now=now,
    )
    messages.wake_lane(session=session, kind="marketing", now=now)
    impression_key = f"journey:{key}"[:128]
    exists = session.scalar(select(RecImpression.id).where(RecImpression.key == impression_key))
    if exists is None:
        session.add(
            RecImpression(
                key=impression_key,
                customer_id=customer_id,
                kind="popular" if shown.fallback else fields["kind"],
                products=[i.sku for i in shown.items],
                shown_at=now,
            )
        )
    return {"outbox_id": row.id, "products": [i.sku for i in shown.items]}


STEP = StepType(NAME, fields, perform)
