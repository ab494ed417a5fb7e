"""Gatherings' domain events as tracked customer events, so that segments (`event` conditions)
and journeys (`event` triggers) can use them: "Gathering Invited", "Gathering RSVP",
"Gathering Attended", with the event id, title and answer as properties. A consumer, recorded
once per domain event (its message id is `gathering:<event id>`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.gatherings.events import EVENT_TYPES
from patron.gatherings.tables import Gathering

CONSUMER = "gatherings.tracked"
TYPES = frozenset(EVENT_TYPES)
NAMES = {
    "gathering.invited": "Gathering Invited",
    "gathering.rsvp": "Gathering RSVP",
    "gathering.attended": "Gathering Attended",
}


def on_events(*, session: Session, events, now: datetime) -> None:
    """Record each gathering event as a tracked event of its customer."""
    ids = {e.data.get("gathering_id") for e in events}
    titles = dict(
        session.execute(select(Gathering.id, Gathering.title).where(Gathering.id.in_(ids))).all()
    )
    for e in events:
        if e.customer_id is None:
            continue
        gathering_id = e.data.get("gathering_id")
        properties = {"gathering_id": gathering_id, "title": titles.get(gathering_id, "")}
        properties |= {k: e.data[k] for k in ("answer", "status", "source") if k in e.data}
        customers.record_event(
            session=session,
            message_id=f"gathering:{e.id}",
            type_="track",
            name=NAMES[e.type],
            customer_id=e.customer_id,
            anonymous_id=None,
            properties=properties,
            context={},
            occurred_at=e.occurred_at,
            received_at=now,
        )
