"""Who a broadcast reaches: segment members minus exclusions, counted and snapshotted in SQL.

No Python loop over customers: the live count is a handful of COUNTs, the snapshot one
INSERT ... SELECT (outbox.enqueue_many), and a local-time send one UPDATE per distinct time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, func, select, update
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


def _count(session: Session, query: Select) -> int:
    """How many rows a select yields."""
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def live_count(
    session: Session,
    *,
    segment_ids: list[int],
    exclude_ids: list[int],
    channel: str,
    now: datetime,
    cap: rules.FrequencyCap,
) -> dict[str, int]:
    """The audience at each step: members, with consent, not suppressed, within the cap now."""
    base = members(segment_ids, exclude_ids).subquery("audience")
    ids = base.c.customer_id
    counts = {"members": _count(session, select(ids))}
    consented = (
        select(ids)
        .join(
            Consent,
            and_(
                Consent.customer_id == ids,
                Consent.channel == CONSENT_CHANNEL.get(channel, channel),
                Consent.status == "granted",
            ),
        )
        .join(Customer, Customer.id == ids)
    )
    counts["consented"] = _count(session, consented)
    reachable = consented.where(
        ~select(Suppression.address)
        .where(Suppression.address == func.lower(Customer.email))
        .exists()
    )
    counts["not_suppressed"] = _count(session, reachable)
    if cap.limit and cap.days:
        capped = (
            select(OutboxMessage.customer_id)
            .where(
                OutboxMessage.kind == "marketing",
                OutboxMessage.state == "sent",
                OutboxMessage.sent_at > now - timedelta(days=cap.days),
            )
            .group_by(OutboxMessage.customer_id)
            .having(func.count() >= cap.limit)
        )
        reachable = reachable.where(ids.not_in(capped))
    counts["within_cap"] = _count(session, reachable)
    return counts


def local_start(day: date, wall: time) -> datetime:
    """When a local-time send must be snapshotted: the first zone to reach that time."""
    return datetime.combine(day, wall, tzinfo=UTC) - EARLIEST_OFFSET


def local_day(send_at: datetime) -> date:
    """The local calendar day of a local-time send, from its stored start."""
    return (send_at.astimezone(UTC) + EARLIEST_OFFSET).date()


def spread_local_time(session: Session, *, broadcast_id: int, day: date, wall: time) -> int:
    """Time each queued row at the wall time in its customer's zone: one UPDATE a zone."""
    mine = and_(
        OutboxMessage.source == "broadcast",
        OutboxMessage.source_id == broadcast_id,
        OutboxMessage.state == "queued",
    )
    zones = session.scalars(
        select(Customer.time_zone)
        .join(OutboxMessage, OutboxMessage.customer_id == Customer.id)
        .where(mine)
        .distinct()
    ).all()
    for name in zones:
        in_zone = Customer.time_zone.is_(None) if name is None else Customer.time_zone == name
        session.execute(
            update(OutboxMessage)
            .where(mine, OutboxMessage.customer_id.in_(select(Customer.id).where(in_zone)))
            .values(send_after=rules.local_send_time(day, wall, name))
            .execution_options(synchronize_session=False)
        )
    return len(zones)
