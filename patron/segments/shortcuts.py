"""Use cases other pages lead to: open (or create) the segment of a rule; a customer's segments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.facets import ListFacet
from patron.customers.read import Customer
from patron.errors import InvalidInput
from patron.segments import rules, service
from patron.segments.tables import Segment, SegmentMembership


def find_by_rules(*, session: Session, rules_json: dict) -> Segment | None:
    """The saved segment whose stored rules are exactly these (after validation), if any."""
    wanted = rules.to_json(service.validate_rules(session=session, rules_json=rules_json))
    for segment in service.list_segments(session=session):
        if segment.rules == wanted:
            return segment
    return None


def _free_name(session: Session, name: str) -> str:
    """name, or name (2), name (3) ... : the first no segment uses yet."""
    similar = Segment.name.startswith(name, autoescape=True)
    taken = set(session.scalars(select(Segment.name).where(similar)))
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


def open_or_create(
    *, session: Session, name: str, rules_json: dict, now: datetime, description: str = ""
) -> tuple[Segment, bool]:
    """The saved segment of these rules, created under a free name when none exists yet."""
    found = find_by_rules(session=session, rules_json=rules_json)
    if found is not None:
        return found, False
    created = service.create_segment(
        session=session,
        name=_free_name(session, (name or "").strip()[:240] or "Segment"),
        rules_json=rules_json,
        description=description,
        now=now,
    )
    return created, True


def customer_segments(*, session: Session, customer_id: int) -> list[dict]:
    """The saved segments a customer is a stored member of, by name, with when they entered."""
    query = (
        select(Segment.id, Segment.name, Segment.builtin_key, SegmentMembership.entered_at)
        .join(SegmentMembership, SegmentMembership.segment_id == Segment.id)
        .where(SegmentMembership.customer_id == customer_id)
        .order_by(Segment.name)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def _segment_where(value: str):
    """Customers who are stored members of the segment with this id."""
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise InvalidInput("segment: choose a saved segment")
    members = select(SegmentMembership.customer_id).where(
        SegmentMembership.segment_id == int(value)
    )
    return Customer.id.in_(members)


def _segment_names(*, session: Session, customer_ids: list[int]) -> dict[int, str]:
    """The saved segments of each customer, names joined (at most three, then a count)."""
    if not customer_ids:
        return {}
    rows = session.execute(
        select(SegmentMembership.customer_id, Segment.name)
        .join(Segment, Segment.id == SegmentMembership.segment_id)
        .where(SegmentMembership.customer_id.in_(customer_ids))
        .order_by(SegmentMembership.customer_id, Segment.name)
    )
    names: dict[int, list[str]] = {}
    for customer_id, name in rows:
        names.setdefault(customer_id, []).append(name)
    return {
        cid: ", ".join(found[:3]) + (f" +{len(found) - 3} more" if len(found) > 3 else "")
        for cid, found in names.items()
    }


SEGMENT_FACET = ListFacet(
    name="segment",
    label="Segments",
    options=lambda *, session: [
        (str(s.id), s.name) for s in service.list_segments(session=session)
    ],
    where=_segment_where,
    values=_segment_names,
    order=30,
)
