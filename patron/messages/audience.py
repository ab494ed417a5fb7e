"""Who a broadcast reaches: segment members minus exclusions, counted and snapshotted in SQL.

No Python loop over customers: the live count is one pass of filtered COUNTs, the snapshot one
INSERT ... SELECT (enqueue.enqueue_many), and a local-time send one INSERT ... SELECT per
distinct time zone, each with that zone's send time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from patron.customers.read import Consent, Customer
from patron.messages import rules
from patron.messages.outbox import CONSENT_CHANNEL
from patron.messages.tables import OutboxMessage, Suppression
from patron.segments.read import SegmentMembership

# The earliest offset any time zone has (UTC+14, Kiribati): a local-time send starts then.
EARLIEST_OFFSET = timedelta(hours=14)


def members(segment_ids: list[int], exclude_ids: list[int]) -> Select:
    """Customer ids in any of the segments and in none of the exclusions."""
    included = SegmentMembership.__table__.alias("included")
    excluded = SegmentMembership.__table__.alias("excluded")
    query = (
        select(included.c.customer_id)
        .join(Customer, Customer.id == included.c.customer_id)
        .where(included.c.segment_id.in_(segment_ids))
    )
    if exclude_ids:
        query = query.where(
            ~select(excluded.c.customer_id)
            .where(
                excluded.c.customer_id == included.c.customer_id,
                excluded.c.segment_id.in_(exclude_ids),
            )
            .exists()
        )
    if len(segment_ids) > 1:
        query = query.distinct()
    return query


def _capped(now: datetime, cap: rules.FrequencyCap):
    """Customers with at least the cap's limit of marketing sends in its window."""
    return (
        select(OutboxMessage.customer_id.label("customer_id"))
        .where(
            OutboxMessage.kind == "marketing",
            OutboxMessage.state == "sent",
            OutboxMessage.sent_at > now - timedelta(days=cap.days),
        )
        .group_by(OutboxMessage.customer_id)
        .having(func.count() >= cap.limit)
        .subquery("capped")
    )


def live_count(
    session: Session,
    *,
    segment_ids: list[int],
    exclude_ids: list[int],
    channel: str,
    now: datetime,
    cap: rules.FrequencyCap,
) -> dict[str, int]:
    """The audience at each step: members, with consent, not suppressed, within the cap now.

    One pass over the audience: each step is a filtered count of outer joins.
    """
    base = members(segment_ids, exclude_ids).subquery("audience")
    ids = base.c.customer_id
    consented = Consent.customer_id.is_not(None)
    reachable = and_(consented, Suppression.address.is_(None))
    query = (
        select(ids)
        .join(Customer, Customer.id == ids)
        .outerjoin(
            Consent,
            and_(
                Consent.customer_id == ids,
                Consent.channel == CONSENT_CHANNEL.get(channel, channel),
                Consent.status == "granted",
            ),
        )
        .outerjoin(Suppression, Suppression.address == func.lower(Customer.email))
    )
    within = reachable
    if cap.limit and cap.days:
        capped = _capped(now, cap)
        query = query.outerjoin(capped, capped.c.customer_id == ids)
        within = and_(reachable, capped.c.customer_id.is_(None))
    counts = query.with_only_columns(
        func.count(),
        func.count().filter(consented),
        func.count().filter(reachable),
        func.count().filter(within),
    )
    found = session.execute(counts).one()
    return dict(zip(("members", "consented", "not_suppressed", "within_cap"), found, strict=True))


def zones(session: Session, audience: Select) -> list[str | None]:
    """The distinct time zones of an audience (None: unknown, sent as UTC)."""
    ids = audience.subquery("audience")
    query = select(Customer.time_zone).join(ids, ids.c.customer_id == Customer.id).distinct()
    return list(session.scalars(query))


def in_zone(audience: Select, name: str | None) -> Select:
    """The members of an audience in one time zone."""
    return audience.where(
        Customer.time_zone.is_(None) if name is None else Customer.time_zone == name
    )


def local_start(day: date, wall: time) -> datetime:
    """When a local-time send must be snapshotted: the first zone to reach that time."""
    return datetime.combine(day, wall, tzinfo=UTC) - EARLIEST_OFFSET


def local_day(send_at: datetime) -> date:
    """The local calendar day of a local-time send, from its stored start."""
    return (send_at.astimezone(UTC) + EARLIEST_OFFSET).date()
