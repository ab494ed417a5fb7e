"""Helpers of the journey tests: journeys, tracked events and orders at given times, the pump."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from patron.customers import service as customers
from patron.customers.rules import LineInput, OrderInput
from patron.db import transaction
from patron.events import service as events
from patron.journeys import engine, intake, service
from patron.journeys.tables import Enrolment, StepRun
from patron.manifest import Consumer
from patron.messages import service as messages

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
CONSUMER = Consumer(intake.CONSUMER, intake.EVENT_TYPES, intake.on_events)
_ids = itertools.count(1)


def at(**delta) -> datetime:
    """T0 shifted."""
    return T0 + timedelta(**delta)


def person(s, name: str, **profile):
    """A customer with email consent."""
    c = customers.upsert_customer(
        session=s, external_id=name, profile={"email": f"{name}@example.com", **profile}, now=T0
    )
    customers.set_consent(
        session=s, customer=c, channel="email", status="granted", source="test", now=T0
    )
    return c


def template(s, name: str = "hello"):
    """A marketing template."""
    data = messages.TemplateInput(
        name=name, variants=[messages.VariantInput(subject="Hi", body="<p>Hi</p>")]
    )
    return messages.create_template(session=s, data=data, now=T0)


def journey(db, definition: dict, *, name: str | None = None, live: bool = True) -> int:
    """A saved journey (live unless told), its id."""
    with transaction(db.sessions) as s:
        j = service.create_journey(
            session=s, name=name or f"j{next(_ids)}", definition=definition, now=T0
        )
        if live:
            service.resume(session=s, journey_id=j.id, now=T0)
        return j.id


def track(db, customer_id: int, name: str, when: datetime, **properties) -> None:
    """A tracked event logged at `when`."""
    with transaction(db.sessions) as s:
        customers.record_event(
            session=s,
            message_id=f"m{next(_ids)}",
            type_="track",
            name=name,
            customer_id=customer_id,
            anonymous_id=None,
            properties=properties,
            context={},
            occurred_at=when,
            received_at=when,
        )


def buy(db, external_id: str, when: datetime, total: int = 1000, skus=()) -> None:
    """An order placed and logged at `when`."""
    lines = tuple(LineInput(sku=sku, unit_price_cents=total) for sku in skus)
    data = OrderInput(
        external_id=f"o{next(_ids)}",
        customer_external_id=external_id,
        placed_at=when,
        total_cents=total,
        lines=lines,
    )
    with transaction(db.sessions) as s:
        customers.record_order(session=s, order=data, now=when)


def pump(db, now: datetime) -> None:
    """Hand the log to the intake consumer, as the worker does."""
    events.pump(db.sessions, {CONSUMER.name: CONSUMER}, now=now)


def step(db, now: datetime) -> None:
    """Intake, then every due step."""
    pump(db, now)
    engine.run_due(db.sessions, now=now)


def enrolments(db, journey_id: int) -> list[Enrolment]:
    """A journey's enrolments by id."""
    with transaction(db.sessions) as s:
        rows = list(
            s.scalars(
                select(Enrolment).where(Enrolment.journey_id == journey_id).order_by(Enrolment.id)
            )
        )
        s.expunge_all()
        return rows


def paths(db, journey_id: int) -> list[dict]:
    """Each enrolment's state, reason, revenue and (step, iteration, outcome) path."""
    out = []
    with transaction(db.sessions) as s:
        rows = s.scalars(
            select(Enrolment).where(Enrolment.journey_id == journey_id).order_by(Enrolment.id)
        )
        for e in rows:
            runs = s.execute(
                select(StepRun.step_id, StepRun.iteration, StepRun.outcome)
                .where(StepRun.enrolment_id == e.id)
                .order_by(StepRun.id)
            ).all()
            out.append(
                {
                    "customer_id": e.customer_id,
                    "state": e.state,
                    "reason": e.exit_reason,
                    "revenue": e.revenue_minor,
                    "path": [tuple(r) for r in runs],
                }
            )
    return out
