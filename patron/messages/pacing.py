"""Pacing of marketing messages at send time: the frequency cap and quiet hours.

Applied to claimed rows after consent and suppression: a row over the cap is deferred (back
to queued at the time the window allows, reason kept) or skipped, as configured; a row inside
the customer's quiet hours is deferred to the end of the window. Journeys and broadcasts send
through the same outbox, so the cap counts both.

Race-free across workers: two senders can claim different rows of one customer at once. On
PostgreSQL each claim transaction takes a transaction-level advisory lock per customer of its
batch (in id order, so claimers never deadlock) before counting, and the count includes rows
other senders passed and still hold (`sending`): the second claimer waits for the first to
commit and then sees its row. The lock lives only until the claim transaction commits (before
any rendering or sending) and is taken only when a cap is configured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.messages import events as message_events
from patron.messages import rules
from patron.messages.outbox import Claimed
from patron.messages.tables import OutboxMessage

# Names the advisory locks of pacing (the first of the two int4 keys; the customer id is the
# second). The two-key space never overlaps the one-key locks of the event log.
PACING_LOCK = 0x7061_6365


def lock_customers(session: Session, customer_ids: set[int]) -> None:
    """Serialize pacing of these customers across senders until this transaction ends."""
    if not customer_ids or session.get_bind().dialect.name != "postgresql":
        return  # SQLite has one writer at a time
    # Ids above int4 share a lock with another customer: only extra waiting, never a miss.
    session.execute(
        text(
            "SELECT pg_advisory_xact_lock(:ns, (k % 2147483647)::int) "
            "FROM (SELECT unnest(:ids) AS k ORDER BY 1) AS ordered"
        ).bindparams(bindparam("ids", type_=postgresql.ARRAY(postgresql.BIGINT))),
        {"ns": PACING_LOCK, "ids": sorted(customer_ids)},
    )


def recent_sends(
    session: Session,
    customer_ids: set[int],
    *,
    now: datetime,
    days: int,
    batch: Collection[int] = (),
) -> dict[int, list[datetime]]:
    """Each customer's marketing sends in the last `days` days, counting as sent now the rows
    other senders passed and still hold (`sending`, outside this `batch`)."""
    found: dict[int, list[datetime]] = defaultdict(list)
    if not customer_ids or days <= 0:
        return found
    o = OutboxMessage
    in_flight = and_(o.state == "sending", o.id.not_in(list(batch)))
    rows = session.execute(
        select(o.customer_id, o.sent_at).where(
            o.customer_id.in_(customer_ids),
            o.kind == "marketing",
            or_(and_(o.state == "sent", o.sent_at > now - timedelta(days=days)), in_flight),
        )
    )
    for customer_id, sent_at in rows:
        found[customer_id].append(sent_at or now)
    return found


def _defer(row_id: int, until: datetime, reason: str) -> dict:
    """The change that puts a claimed row back in the queue until a time."""
    return dict(
        id=row_id,
        state="queued",
        send_after=until,
        reason=reason,
        locked_by=None,
        locked_until=None,
    )


def pace(
    session: Session,
    ready: list[Claimed],
    *,
    now: datetime,
    cap: rules.FrequencyCap,
    quiet: rules.QuietHours | None,
) -> list[Claimed]:
    """The rows that may go now; the others are deferred or skipped in the outbox."""
    marketing = [r for r in ready if r.kind == "marketing"]
    if not marketing or (quiet is None and (cap.limit == 0 or cap.days == 0)):
        return ready
    ids = {r.customer_id for r in marketing}
    zones = dict(
        session.execute(select(Customer.id, Customer.time_zone).where(Customer.id.in_(ids))).all()
    )
    batch_ids = [r.id for r in marketing]
    priorities = dict(
        session.execute(
            select(OutboxMessage.id, OutboxMessage.priority).where(OutboxMessage.id.in_(batch_ids))
        ).all()
    )
    capped = cap.limit > 0 and cap.days > 0
    if capped:
        lock_customers(session, ids)
    sent = recent_sends(session, ids, now=now, days=cap.days if capped else 0, batch=batch_ids)
    held, changes = set(), []
    for row in sorted(marketing, key=lambda r: (-priorities.get(r.id, 0), r.id)):
        if quiet is not None:
            until = rules.after_quiet_hours(now, zones.get(row.customer_id), quiet)
            if until > now:
                held.add(row.id)
                changes.append(_defer(row.id, until, "quiet_hours"))
                continue
        decision = rules.check_cap(
            sent[row.customer_id], now, cap, priority=priorities.get(row.id, 0)
        )
        if decision.action == "send":
            sent[row.customer_id].append(now)  # a second row in this batch counts the first
            continue
        held.add(row.id)
        if decision.action == "skip":
            changes.append(dict(id=row.id, state="skipped", reason=decision.reason, locked_by=None))
        else:
            changes.append(_defer(row.id, decision.until, decision.reason))
    if changes:
        session.execute(update(OutboxMessage), changes)
        skipped = [c["id"] for c in changes if c["state"] == "skipped"]
        message_events.append_rows(session, message_events.MessageSkipped, skipped, now=now)
    return [r for r in ready if r.id not in held]
