"""The outbox: one row per message, queued, claimed by senders, recorded once.

States: queued → sending (claimed under a lease) → sent | failed | bounced | skipped (with a
reason), or back to queued for a retry; `uncertain` when the lease ran out during an attempt.
Claiming is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, as the
job queue claims jobs: any number of senders take disjoint rows. Before each attempt the row's
`attempted_at` is committed; a row whose lease runs out while `sending` is therefore either
never attempted (queued again, safely) or possibly delivered (uncertain, and by the default
policy never sent again: nobody gets a message twice). Consent and suppression are checked
when a row is claimed, i.e. at send time, not when it was queued.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, func, insert, literal, or_, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.customers.read import Consent, Customer
from patron.messages import events as message_events
from patron.messages import preferences, rules
from patron.messages.tables import Broadcast, OutboxMessage, Suppression

# The consent a marketing message needs on each channel (webhook carries SMS and push).
CONSENT_CHANNEL = {"email": "email", "webhook": "sms"}


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


# Queueing -------------------------------------------------------------------------------------


def enqueue_one(
    session: Session,
    *,
    customer_id: int,
    template_id: int,
    kind: str,
    source: str,
    source_id: int,
    now: datetime,
    channel: str = "email",
    occurrence: str = "",
    idempotency_key: str | None = None,
    data: dict | None = None,
    priority: int = 0,
    send_after: datetime | None = None,
    address: str | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue one message; with a key (or unique source) already queued, the earlier row, False.

    `address` fixes where it goes (a test send), instead of the customer's at send time.
    """
    row = OutboxMessage(
        source=source,
        source_id=source_id,
        customer_id=customer_id,
        channel=channel,
        occurrence=occurrence,
        template_id=template_id,
        kind=kind,
        priority=priority,
        state="queued",
        attempts=0,
        send_after=send_after or now,
        idempotency_key=idempotency_key,
        data=data,
        queued_at=now,
        address=address,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
        return row, True
    except IntegrityError:
        pass
    if idempotency_key is not None:
        found = session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        )
    else:
        found = session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.source == source,
                OutboxMessage.source_id == source_id,
                OutboxMessage.customer_id == customer_id,
                OutboxMessage.channel == channel,
                OutboxMessage.occurrence == occurrence,
            )
        )
    return found, False


def enqueue_many(
    session: Session,
    customer_ids: Select,
    *,
    template_id: int,
    source: str,
    source_id: int,
    now: datetime,
    kind: str = "marketing",
    channel: str = "email",
    occurrence: str = "",
    priority: int = 0,
    send_after: datetime | None = None,
) -> int:
    """Queue one message per customer id the select yields: one INSERT ... SELECT.

    Rows already queued for the same (source, source id, customer, channel, occurrence) are
    left alone (ON CONFLICT DO NOTHING), so fanning out twice queues each customer once.
    Returns how many rows were added.
    """
    ids = customer_ids.subquery("audience")
    rows = select(
        ids.c[0],
        literal(source),
        literal(source_id),
        literal(channel),
        literal(occurrence),
        literal(template_id),
        literal(kind),
        literal(priority),
        literal("queued"),
        literal(0),
        literal(send_after or now, OutboxMessage.send_after.type),
        literal(now, OutboxMessage.queued_at.type),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    columns = [
        "customer_id",
        "source",
        "source_id",
        "channel",
        "occurrence",
        "template_id",
        "kind",
        "priority",
        "state",
        "attempts",
        "send_after",
        "queued_at",
    ]
    dialect = session.get_bind().dialect.name
    builder = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect, insert)
    statement = builder(OutboxMessage).from_select(columns, rows)
    if dialect in ("postgresql", "sqlite"):
        statement = statement.on_conflict_do_nothing()
    # Without preserve_rowcount SQLAlchemy reports -1 for INSERT ... SELECT on psycopg.
    return session.execute(statement.execution_options(preserve_rowcount=True)).rowcount or 0


UNNEST_ROWS = text(
    "INSERT INTO outbox (customer_id, source, source_id, channel, occurrence, template_id, kind,"
    " priority, state, attempts, send_after, queued_at) SELECT u.c, :source, :source_id,"
    " :channel, u.o, :template_id, :kind, 0, 'queued', 0, :now, :now FROM unnest("
    "CAST(:customers AS bigint[]), CAST(:occurrences AS text[])) AS u(c, o)"
    " ON CONFLICT DO NOTHING RETURNING occurrence, id"
)


def enqueue_rows(
    session: Session,
    rows: list[tuple[int, str]],
    *,
    template_id: int,
    kind: str,
    channel: str,
    source: str,
    source_id: int,
    now: datetime,
) -> dict[str, int]:
    """Queue one message per (customer id, occurrence): multi-row INSERTs, ON CONFLICT DO
    NOTHING on the unique (source, source id, customer, channel, occurrence). Returns the
    outbox id of every occurrence, whether added now or queued before."""
    if not rows:
        return {}
    table = OutboxMessage.__table__.c
    if session.get_bind().dialect.name == "postgresql":
        # One statement over two arrays: no per-row parameters to send or parse.
        params = dict(
            customers=[c for c, _o in rows],
            occurrences=[o for _c, o in rows],
            source=source,
            source_id=source_id,
            channel=channel,
            template_id=template_id,
            kind=kind,
            now=now,
        )
        added = session.connection().execute(UNNEST_ROWS, params)
    else:
        values = [
            dict(
                customer_id=customer_id,
                source=source,
                source_id=source_id,
                channel=channel,
                occurrence=occurrence,
                template_id=template_id,
                kind=kind,
                priority=0,
                state="queued",
                attempts=0,
                send_after=now,
                queued_at=now,
            )
            for customer_id, occurrence in rows
        ]
        statement = sqlite.insert(OutboxMessage.__table__).on_conflict_do_nothing()
        added = session.execute(statement.returning(table.occurrence, table.id), values)
    ids = {occurrence: id_ for occurrence, id_ in added}
    missing = [occurrence for _c, occurrence in rows if occurrence not in ids]
    if missing:  # queued before: find them by their unique key
        found = select(table.occurrence, table.id).where(
            table.source == source,
            table.source_id == source_id,
            table.channel == channel,
            table.occurrence.in_(missing),
        )
        ids.update({o: i for o, i in session.execute(found)})
    return ids


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


def _skip_reason(
    row: Claimed, customer, consents: dict, suppressed: set[str], unwanted: set
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
    ready, changes = [], []
    for row in claimed:
        customer = customers.get(row.customer_id)
        reason = _skip_reason(row, customer, consents, suppressed, unwanted)
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


def start_attempt(session: Session, *, outbox_id: int, worker: str, now: datetime) -> bool:
    """Mark the attempt as begun (committed before sending); False when the row was lost."""
    result = session.execute(
        update(OutboxMessage)
        .where(_held(outbox_id, worker))
        .values(attempted_at=now, attempts=OutboxMessage.attempts + 1)
    )
    return result.rowcount == 1


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
    if outcome.kind == "sent":
        row.state, row.sent_at, row.reason = "sent", now, None
    elif outcome.kind == "temporary":
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
