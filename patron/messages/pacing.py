"""Pacing of marketing messages at send time: the frequency cap and quiet hours.

Applied to claimed rows after consent and suppression: a row over the cap is deferred (back
to queued at the time the window allows, reason kept) or skipped, as configured; a row inside
the customer's quiet hours is deferred to the end of the window. Journeys and broadcasts send
through the same outbox, so the cap counts both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.messages import events as message_events
from patron.messages import rules
from patron.messages.outbox import Claimed
from patron.messages.tables import OutboxMessage


def recent_sends(
    session: Session, customer_ids: set[int], *, now: datetime, days: int
) -> dict[int, list[datetime]]:
    """Each customer's marketing sends in the last `days` days."""
    found: dict[int, list[datetime]] = defaultdict(list)
    if not customer_ids or days <= 0:
        return found
    rows = session.execute(
        select(OutboxMessage.customer_id, OutboxMessage.sent_at).where(
            OutboxMessage.customer_id.in_(customer_ids),
            OutboxMessage.kind == "marketing",
            OutboxMessage.state == "sent",
            OutboxMessage.sent_at > now - timedelta(days=days),
        )
    )
    for customer_id, sent_at in rows:
        found[customer_id].append(sent_at)
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
    priorities = dict(
        session.execute(
            select(OutboxMessage.id, OutboxMessage.priority).where(
                OutboxMessage.id.in_([r.id for r in marketing])
            )
        ).all()
    )
    sent = recent_sends(session, ids, now=now, days=cap.days)
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
