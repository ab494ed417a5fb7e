"""Helpers of the experiment tests: customers with consent in a segment, arm templates, orders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from patron.db import transaction
from patron.messages import service as messages
from patron.messages.tables import CapturedMessage, OutboxMessage
from patron.segments.tables import Segment, SegmentMembership
from tests import factories
from tests.messages.conftest import NOW, customer

RULES = {"type": "profile", "field": "email", "op": "contains", "value": "@"}


def segment(session, members) -> int:
    """A segment holding exactly these customers (its rules are never evaluated here)."""
    row = Segment(name=f"s{len(members)}", rules=RULES, created_at=NOW, updated_at=NOW)
    session.add(row)
    session.flush()
    session.add_all(
        SegmentMembership(segment_id=row.id, customer_id=c.id, entered_at=NOW) for c in members
    )
    session.flush()
    return row.id


def arm_template(session, name: str, subject: str, kind: str = "marketing") -> int:
    """A template whose subject names the arm and whose body shows an offer code if any."""
    body = "<p>{{ data.code | default('none') }}</p><a href='{{ unsubscribe_url }}'>u</a>"
    data = messages.TemplateInput(
        name=name, kind=kind, variants=[messages.VariantInput(subject=subject, body=body)]
    )
    return messages.create_template(session=session, data=data, now=NOW).id


def audience(db, n: int) -> dict:
    """n customers with email consent in one segment, and templates A and B."""
    with transaction(db.sessions) as s:
        people = [customer(s, i) for i in range(n)]
        return {
            "ids": [p.id for p in people],
            "segment": segment(s, people),
            "a": arm_template(s, "arm-a", "Subject A"),
            "b": arm_template(s, "arm-b", "Subject B"),
        }


def buy(session, customer_id: int, n: int, *, total: int, hours: float = 2.0) -> None:
    """An order by customer c{customer_id - 1} placed hours after NOW."""
    factories.order(
        session,
        f"o{customer_id}-{n}-{hours}",
        f"c{customer_id - 1}",
        days=(NOW - factories.T0 + timedelta(hours=hours)) / timedelta(days=1),
        total=total,
    )


def captured(db) -> dict[str, list[str]]:
    """Subjects the capture channel kept, by address."""
    with transaction(db.sessions) as s:
        rows = s.execute(select(CapturedMessage.to_address, CapturedMessage.subject)).all()
    out: dict[str, list[str]] = {}
    for address, subject in rows:
        out.setdefault(address, []).append(subject)
    return out


def outbox_rows(db) -> list[tuple]:
    """(customer id, source, template id, state, reason) of every outbox row."""
    with transaction(db.sessions) as s:
        return s.execute(
            select(
                OutboxMessage.customer_id,
                OutboxMessage.source,
                OutboxMessage.template_id,
                OutboxMessage.state,
                OutboxMessage.reason,
            )
        ).all()
