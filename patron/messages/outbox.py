"""The outbox: one row per message, queued, claimed by senders, recorded once.

States: queued → sending (claimed under a lease) → sent | failed | bounced | skipped (with a
reason), or back to queued for a retry; `uncertain` when the lease ran out during an attempt.
Claiming is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, as the
job queue claims jobs: any number of senders take disjoint rows. Before each attempt the row's
`attempted_at` is committed; a row whose lease runs out while `sending` is therefore either
never attempted (queued again, safely) or possibly delivered (uncertain, and by the default
policy never sent again: nobody gets a message twice). Consent and suppression are checked
when a row is claimed, i.e. at send time, not when it was queued, and so are holdouts: a
`messages.holdout` contributor, `(session=, customer_ids=) -> set of ids`, names customers who
get no marketing message (reason holdout); transactional mail is not asked about. Rows are
added by `enqueue`.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.customers.read import Consent, Customer
from patron.manifest import contributions
from patron.messages import events as message_events
from patron.messages import preferences, rules
from patron.messages.tables import Broadcast, OutboxMessage, Suppression

# The consent a marketing message needs on each channel (webhook carries SMS and push).
CONSENT_CHANNEL = {"email": "email", "webhook": "sms"}
HOLDOUT_POINT = "messages.holdout"


@dataclass(frozen=True)
class Claimed:
    """A row a sender holds: who, what, on which channel, under which Message-ID."""

    id: int
    customer_id: int
    channel: str
    kind: str
    template_id: int
    attempts: int
    message_id: str | None = None
    address: str | None = None
    locale: str | None = None
    data: dict | None = None


# Claiming -------------------------------------------------------------------------------------


def expire_leases(session: Session, *, now: datetime, policy: str) -> dict[str, int]:
    """Rows whose sender's lease ran out: never attempted → queued; attempted → by policy."""
    stale = and_(OutboxMessage.state == "sending", OutboxMessage.locked_until < now)
    free = dict(locked_by=None, locked_until=None, attempted_at=None)
    requeued = session.execute(
        update(OutboxMessage)
        .where(stale, OutboxMessage.attempted_at.is_(None))
        .values(state="queued", **free)
    ).rowcount
    if policy == "resend":
        values = dict(state="queued", reason="resent after an uncertain attempt", **free)
    else:
        values = dict(
            state="uncertain",
            reason="the sender stopped during the attempt; it may have been delivered",
            locked_by=None,
            locked_until=None,
        )
    uncertain = session.scalars(
        update(OutboxMessage)
        .where(stale, OutboxMessage.attempted_at.is_not(None))
        .values(**values)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if policy != "resend":
        message_events.append_rows(session, message_events.MessageUncertain, uncertain, now=now)
    return {"requeued": requeued or 0, "uncertain": len(uncertain)}


def _not_paused():
    """Condition: the row does not belong to a paused broadcast (those wait in the queue)."""
    paused = select(Broadcast.id).where(
        Broadcast.id == OutboxMessage.source_id, Broadcast.state == "paused"
    )
    return or_(OutboxMessage.source != "broadcast", ~paused.exists())


def claim(
    session: Session, *, worker: str, now: datetime, lease_seconds: int, limit: int, kind: str
) -> list[Claimed]:
    """Take up to `limit` due queued rows of one kind, highest priority first."""
    candidates = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == "queued",
            OutboxMessage.kind == kind,
            OutboxMessage.send_after <= now,
            _not_paused(),
        )
        .order_by(OutboxMessage.priority.desc(), OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()))
        .values(
            state="sending",
            locked_by=worker,
            locked_until=now + timedelta(seconds=lease_seconds),
            attempted_at=None,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.customer_id,
            OutboxMessage.channel,
            OutboxMessage.kind,
            OutboxMessage.template_id,
            OutboxMessage.attempts,
            OutboxMessage.message_id,
            OutboxMessage.data,
            OutboxMessage.address,
        )
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(
        (Claimed(*r[:7], address=r.address, data=r.data) for r in rows), key=lambda c: c.id
    )


def _suppressed(session: Session, addresses: Collection[str]) -> set[str]:
    """The addresses of the suppression list among these (lower case)."""
    if not addresses:
        return set()
    found = session.scalars(
        select(Suppression.address).where(Suppression.address.in_(list(addresses)))
    )
    return set(found)


def held_out(session: Session, customer_ids: Collection[int]) -> set[int]:
    """The customers among these whom a `messages.holdout` contributor keeps from marketing."""
    held: set[int] = set()
    if customer_ids:
        for holdout in contributions(HOLDOUT_POINT):
            held |= set(holdout(session=session, customer_ids=sorted(customer_ids)))
    return held


def _skip_reason(
    row: Claimed, customer, consents: dict, suppressed: set[str], unwanted: set, held: set[int]
) -> str | None:
    """Why a claimed row must not be sent now, or None."""
    if customer is None:
        return "customer_deleted"
    address = _address_of(row, customer)
    if not address:
        return "no_address"
    if row.channel == "email" and address.lower() in suppressed:
        return "suppressed"
    if row.kind == "marketing":
        wanted = CONSENT_CHANNEL.get(row.channel, row.channel)
        if consents.get((row.customer_id, wanted)) != "granted":
            return "consent"
        if (row.customer_id, row.template_id) in unwanted:
            return "topic"
        if row.customer_id in held:
            return "holdout"
    return None


def _address_of(row: Claimed, customer) -> str | None:
    """Where a row goes: the address fixed when it was queued, else the customer's."""
    if row.address:
        return row.address
    return customer.email if row.channel == "email" else customer.phone


def screen(
    session: Session, claimed: list[Claimed], *, domain: str, now: datetime | None = None
) -> list[Claimed]:
    """Skip rows without consent or to suppressed addresses; give the rest address and ID.

    The Message-ID is stored before any attempt and kept across retries.
    """
    if not claimed:
        return []
    ids = {c.customer_id for c in claimed}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    consents = {
        (c.customer_id, c.channel): c.status
        for c in session.scalars(select(Consent).where(Consent.customer_id.in_(ids)))
    }
    emails = {c.email.lower() for c in customers.values() if c.email}
    emails |= {c.address.lower() for c in claimed if c.address}
    suppressed = _suppressed(session, emails)
    unwanted = preferences.unwanted(
        session, {(c.customer_id, c.template_id) for c in claimed if c.kind == "marketing"}
    )
    held = held_out(session, {c.customer_id for c in claimed if c.kind == "marketing"})
    ready, changes = [], []
    for row in claimed:
        customer = customers.get(row.customer_id)
        reason = _skip_reason(row, customer, consents, suppressed, unwanted, held)
        if reason is not None:
            changes.append(dict(id=row.id, state="skipped", reason=reason, locked_by=None))
            continue
        address = _address_of(row, customer)
        message_id = row.message_id or f"<{row.id}.{secrets.token_hex(8)}@{domain}>"
        changes.append(dict(id=row.id, address=address, message_id=message_id))
        ready.append(
            Claimed(
                row.id,
                row.customer_id,
                row.channel,
                row.kind,
                row.template_id,
                row.attempts,
                message_id,
                address,
                customer.locale,
                row.data,
            )
        )
    if changes:
        session.execute(update(OutboxMessage), changes)
        skipped = [c["id"] for c in changes if c.get("state") == "skipped"]
        if skipped:
            at = now or datetime.now(UTC)
            message_events.append_rows(session, message_events.MessageSkipped, skipped, now=at)
    return ready


# Attempts and outcomes ------------------------------------------------------------------------


def _held(outbox_id: int, worker: str):
    """Condition: the row is still this sender's."""
    return and_(
        OutboxMessage.id == outbox_id,
        OutboxMessage.locked_by == worker,
        OutboxMessage.state == "sending",
    )


_T = OutboxMessage.__table__
# One small Core UPDATE each (no ORM flush, no SELECT): these run once per message sent.
_START = (
    update(_T)
    .where(_T.c.id == bindparam("oid"), _T.c.locked_by == bindparam("worker"))
    .where(_T.c.state == "sending")
    .values(attempted_at=bindparam("now"), attempts=_T.c.attempts + 1)
)
_SENT = (
    update(_T)
    .where(_T.c.id == bindparam("oid"), _T.c.locked_by == bindparam("worker"))
    .where(_T.c.state.in_(("sending", "uncertain")))
    .values(
        state="sent",
        sent_at=bindparam("now"),
        reason=None,
        last_error=None,
        locked_by=None,
        locked_until=None,
        subject=func.coalesce(bindparam("subject", type_=_T.c.subject.type), _T.c.subject),
    )
)


def start_attempt(
    session: Session | Connection, *, outbox_id: int, worker: str, now: datetime
) -> bool:
    """Mark the attempt as begun (committed before sending); False when the row was lost."""
    result = session.execute(_START, dict(oid=outbox_id, worker=worker, now=now))
    return result.rowcount == 1


def record_sent(
    session: Session | Connection, *, outbox_id: int, worker: str, now: datetime, subject=None
) -> bool:
    """Store a delivered attempt with one UPDATE; False when the row was lost."""
    params = dict(oid=outbox_id, worker=worker, now=now, subject=subject)
    return session.execute(_SENT, params).rowcount == 1


def log_sent(session: Session, *, now: datetime, limit: int = 5000) -> int:
    """Append the `message.sent` events of delivered rows not yet logged; returns how many.

    The fast path records "sent" with one UPDATE per message and no event; this catches up
    set-based, after each batch and at the next claim (a sender killed before its sweep), and
    marks the rows in the same transaction, so each event is logged exactly once.
    """
    pending = (
        select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_logged.is_(False))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pending = pending.with_for_update(skip_locked=True)
    ids = list(session.scalars(pending))
    if not ids:
        return 0
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_logged=True))
    return message_events.append_rows(session, message_events.MessageSent, ids, now=now)


def renew(session: Session, *, worker: str, now: datetime, lease_seconds: int) -> int:
    """Extend the lease of every row this sender still holds."""
    return (
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.locked_by == worker, OutboxMessage.state == "sending")
            .values(locked_until=now + timedelta(seconds=lease_seconds))
        ).rowcount
        or 0
    )


def record(
    session: Session,
    *,
    outbox_id: int,
    worker: str,
    outcome: rules.SendOutcome,
    now: datetime,
    subject: str | None = None,
) -> str | None:
    """Store how an attempt ended; returns the new state (None when the row was lost)."""
    if outcome.kind == "sent":
        held = record_sent(session, outbox_id=outbox_id, worker=worker, now=now, subject=subject)
        return "sent" if held else None
    row = session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.locked_by == worker,
            OutboxMessage.state.in_(("sending", "uncertain")),
        )
        .with_for_update()
    )
    if row is None:
        return None
    row.locked_by, row.locked_until = None, None
    row.subject = subject if subject is not None else row.subject
    row.last_error = None if outcome.kind == "sent" else outcome.detail[:4000]
    if outcome.kind == "temporary":
        retry = rules.retry_at(row.attempts, now)
        if retry is None:
            row.state, row.reason = "failed", "temporary failures: gave up retrying"
        else:
            row.state, row.send_after, row.attempted_at = "queued", retry, None
            row.reason = "retrying after a temporary failure"
    elif outcome.kind == "bounce":
        row.state, row.reason = "bounced", "hard_bounce"
        suppress(session, address=row.address, reason="hard_bounce", detail=outcome.detail, now=now)
    else:
        row.state, row.reason = "failed", outcome.detail[:255] or "permanent failure"
    message_events.recorded(session, row, now=now)
    return row.state


def suppress(
    session: Session, *, address: str | None, reason: str, detail: str | None, now: datetime
) -> bool:
    """Add an address to the suppression list (kept until cleared on purpose); True if new."""
    if not address:
        return False
    key = address.strip().lower()
    if session.get(Suppression, key) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Suppression(address=key, reason=reason, detail=detail, created_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def next_due(session: Session, *, kind: str) -> datetime | None:
    """When a sender of this kind has work next: a queued row's time or a lease's end."""
    queued = session.scalar(
        select(func.min(OutboxMessage.send_after)).where(
            OutboxMessage.state == "queued", OutboxMessage.kind == kind
        )
    )
    leased = session.scalar(
        select(func.min(OutboxMessage.locked_until)).where(
            OutboxMessage.state == "sending", OutboxMessage.kind == kind
        )
    )
    times = [t for t in (queued, leased) if t is not None]
    return min(times) if times else None
