"""Use cases of the event log: append in the writer's transaction, consume with a cursor.

Ordering scheme. Ids from a PostgreSQL sequence are not assigned in commit order: a
transaction can take id 10 and commit after the one that took id 11, and a cursor that had
passed 11 would skip 10. So an event's log position (`seq`) is not given at insert but just
before its transaction commits (a `before_commit` hook), under a transaction-level advisory
lock held until the commit is visible. Event-writing transactions therefore commit their
positions one at a time, in increasing order, and a consumer may read every committed
position in order without gaps appearing behind its cursor. The lock is taken as the very
last statement, when the writer holds all its other row locks, so it adds no deadlock and is
held only for the commit itself. Unrelated long transactions never delay consumers. SQLite has
one writer at a time, so there the position is the AUTOINCREMENT id (never reused).

A consumer's batch and its advanced cursor commit in one transaction, under a lock on the
cursor row (SKIP LOCKED on PostgreSQL; SQLite's single writer), so each event is handled
exactly once per consumer whatever the number of workers, and a worker killed mid-batch
leaves the cursor where it was. A handler that raises is rolled back to a savepoint; the
failure, its time and a back-off are recorded on the cursor and the consumer retries later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Select,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from patron.db import UTCDateTime, transaction
from patron.events.tables import ConsumerCursor, LoggedEvent
from patron.events.types import DomainEvent, StoredEvent
from patron.jobs.rules import retry_delay
from patron.manifest import Consumer

log = logging.getLogger("patron.events")
EVENTS = LoggedEvent.__table__
PENDING = "patron.events.pending"
# Any fixed 64-bit key; it names the lock that orders event positions.
POSITION_LOCK = 0x7061_7472_6F6E_01


def _is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def _tx_expression(session: Session):
    """The id of the writing transaction (PostgreSQL) or 0 (SQLite)."""
    if _is_postgres(session):
        return literal_column("pg_current_xact_id()::text::bigint")
    return literal_column("0")


def append(session: Session, events: Iterable[DomainEvent], *, now: datetime) -> int:
    """Appends events to the log in the caller's transaction; returns how many."""
    rows = [
        {
            "type": e.type,
            "customer_id": e.customer_id,
            "data": e.data(),
            "occurred_at": now,
        }
        for e in events
    ]
    if rows:
        session.execute(insert(EVENTS).values(tx=_tx_expression(session)), rows)
        session.info[PENDING] = True
    return len(rows)


def append_select(session: Session, type_name: str, query: Select, *, now: datetime) -> int:
    """Appends one event per row of query, set-based: its first column is the customer id,
    the others (by label) become the event's data. Returns how many."""
    source = query.subquery()
    customer, *fields = list(source.c)
    build = func.jsonb_build_object if _is_postgres(session) else func.json_object
    # Labels are the caller's own identifiers, never user input.
    pairs = [part for c in fields for part in (literal_column(f"'{c.name}'"), c)]
    rows = select(
        _tx_expression(session),
        literal_column(f"'{type_name}'"),
        customer,
        build(*pairs),
        literal(now, UTCDateTime()),
    )
    statement = insert(EVENTS).from_select(
        ["tx", "type", "customer_id", "data", "occurred_at"], rows
    )
    result = session.connection().execute(statement.execution_options(preserve_rowcount=True))
    session.info[PENDING] = True
    return max(result.rowcount or 0, 0)


@event.listens_for(Session, "before_commit")
def _assign_positions(session: Session) -> None:
    """Give this transaction's events their positions, last thing before the commit."""
    if not session.info.pop(PENDING, False):
        return
    if _is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSITION_LOCK})
        session.execute(
            text(
                "UPDATE domain_events SET seq = nextval('domain_events_seq') "
                "WHERE tx = pg_current_xact_id()::text::bigint AND seq IS NULL"
            )
        )
    else:
        session.execute(update(LoggedEvent).where(EVENTS.c.seq.is_(None)).values(seq=EVENTS.c.id))


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    """A rolled-back transaction's events are gone; nothing is left to position."""
    session.info.pop(PENDING, None)


def read_after(
    session: Session, position: int, *, types: Iterable[str] | None, limit: int
) -> list[StoredEvent]:
    """Committed events after a position, in log order, of the given types."""
    query = select(EVENTS).where(EVENTS.c.seq > position).order_by(EVENTS.c.seq).limit(limit)
    if types is not None:
        query = query.where(EVENTS.c.type.in_(sorted(types)))
    return [
        StoredEvent(r.id, r.seq, r.type, r.customer_id, r.data or {}, r.occurred_at)
        for r in session.execute(query)
    ]


def read_window(
    session: Session,
    *,
    since: datetime,
    types: Iterable[str],
    customer_ids: Iterable[int] | None = None,
    limit: int,
) -> list[StoredEvent]:
    """Committed events of the given types at or after `since`, in log order (read only)."""
    query = select(EVENTS).where(
        EVENTS.c.seq.is_not(None),
        EVENTS.c.occurred_at >= since,
        EVENTS.c.type.in_(sorted(types)),
        EVENTS.c.customer_id.is_not(None),
    )
    if customer_ids is not None:
        query = query.where(EVENTS.c.customer_id.in_(sorted(customer_ids)))
    query = query.order_by(EVENTS.c.seq).limit(limit)
    return [
        StoredEvent(r.id, r.seq, r.type, r.customer_id, r.data or {}, r.occurred_at)
        for r in session.execute(query)
    ]


def first_positions(
    *, type_name: str, first: int, last: int, data_equals: dict[str, int] | None = None
) -> Select:
    """SELECT (customer_id, position) of each customer's first logged event of a type between
    two positions (inclusive), optionally with integer data fields equal to values: lets a
    consumer act on a long run of events in one statement."""
    where = [EVENTS.c.seq.between(first, last), EVENTS.c.type == type_name]
    where.append(EVENTS.c.customer_id.is_not(None))
    for key, value in (data_equals or {}).items():
        where.append(EVENTS.c.data[key].as_integer() == value)
    position = func.min(EVENTS.c.seq).label("position")
    return (
        select(EVENTS.c.customer_id.label("customer_id"), position)
        .where(*where)
        .group_by(EVENTS.c.customer_id)
    )


def _last_position(session: Session) -> int | None:
    """The newest committed position in the log."""
    return session.scalar(select(func.max(EVENTS.c.seq)))


def ensure_cursors(session: Session, names: Iterable[str], *, now: datetime) -> None:
    """Creates the cursor row of each consumer not seen before (reading from the start)."""
    known = set(session.scalars(select(ConsumerCursor.name)))
    for name in sorted(set(names) - known):
        try:
            with session.begin_nested():
                session.add(ConsumerCursor(name=name, updated_at=now))
        except IntegrityError:
            pass  # another worker created it at the same time


def _lock_cursor(session: Session, name: str, now: datetime) -> ConsumerCursor | None:
    """The consumer's cursor, locked for this transaction; None if busy or backing off."""
    query = (
        select(ConsumerCursor)
        .where(ConsumerCursor.name == name)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    cursor = session.scalar(query)
    if cursor is None or (cursor.retry_at is not None and cursor.retry_at > now):
        return None
    return cursor


@dataclass(frozen=True)
class ConsumeResult:
    """What one consume step did."""

    handled: int
    failed: bool = False


def consume_once(
    sessions: sessionmaker[Session], consumer: Consumer, *, now: datetime
) -> ConsumeResult:
    """Hands the consumer its next batch and advances its cursor, in one transaction."""
    with transaction(sessions) as session:
        cursor = _lock_cursor(session, consumer.name, now)
        if cursor is None:
            return ConsumeResult(0)
        position = cursor.position
        newest = _last_position(session) or 0  # read first: the batch can only be older
        batch = read_after(session, position, types=consumer.event_types, limit=consumer.batch)
        try:
            with session.begin_nested():
                if batch:
                    consumer.handle(session=session, events=batch, now=now)
        except Exception as exc:  # recorded on the cursor; the writer is never affected
            log.exception("consumer %s failed on events after %s", consumer.name, position)
            _record_failure(cursor, exc, now)
            return ConsumeResult(0, failed=True)
        full = len(batch) == consumer.batch
        end = batch[-1].position if full else max([newest, position, *(e.position for e in batch)])
        _advance(cursor, end, len(batch), now)
        return ConsumeResult(len(batch))


def _advance(cursor: ConsumerCursor, position: int, handled: int, now: datetime):
    """Move the cursor past a handled batch and clear any failure."""
    cursor.position = position
    cursor.handled += handled
    cursor.failures, cursor.failing_since, cursor.retry_at, cursor.last_error = 0, None, None, None
    cursor.updated_at = now


def _record_failure(cursor: ConsumerCursor, exc: Exception, now: datetime) -> None:
    """Note a failed batch on the cursor and when to try again."""
    cursor.failures += 1
    cursor.failing_since = cursor.failing_since or now
    cursor.retry_at = now + retry_delay(cursor.failures)
    cursor.last_error = f"{type(exc).__name__}: {exc}"[:4000]
    cursor.updated_at = now


def pump(
    sessions: sessionmaker[Session],
    consumers: dict[str, Consumer],
    *,
    now: datetime,
    rounds: int = 20,
) -> int:
    """Runs every consumer until it has caught up (or `rounds` batches); returns events."""
    if not consumers:
        return 0
    with transaction(sessions) as session:
        ensure_cursors(session, consumers, now=now)
    total = 0
    for consumer in consumers.values():
        for _ in range(rounds):
            result = consume_once(sessions, consumer, now=now)
            total += result.handled
            if result.handled < consumer.batch:
                break
    return total


def reset_backoff(*, session: Session, name: str) -> None:
    """Lets a failing consumer retry at once."""
    session.execute(update(ConsumerCursor).where(ConsumerCursor.name == name).values(retry_at=None))


@dataclass(frozen=True)
class ConsumerStatus:
    """A consumer's progress as the status command and pages show it."""

    name: str
    handled: int
    pending: int
    failures: int
    failing_since: datetime | None
    retry_at: datetime | None
    last_error: str | None


def status(*, session: Session, consumers: dict[str, Consumer]) -> list[ConsumerStatus]:
    """Each consumer's handled count, events waiting for it, and failure."""
    cursors = {c.name: c for c in session.scalars(select(ConsumerCursor))}
    out = []
    for name, consumer in sorted(consumers.items()):
        cursor = cursors.get(name)
        position = cursor.position if cursor else 0
        pending = session.scalar(
            select(func.count())
            .select_from(EVENTS)
            .where(EVENTS.c.seq > position, EVENTS.c.type.in_(sorted(consumer.event_types)))
        )
        out.append(
            ConsumerStatus(
                name,
                cursor.handled if cursor else 0,
                int(pending or 0),
                cursor.failures if cursor else 0,
                cursor.failing_since if cursor else None,
                cursor.retry_at if cursor else None,
                cursor.last_error if cursor else None,
            )
        )
    return out


def prune(*, session: Session, now: datetime, keep_days: int) -> int:
    """Deletes events older than keep_days that every consumer has read; returns how many."""
    cutoff = now - timedelta(days=keep_days)
    slowest = session.scalar(select(func.min(ConsumerCursor.position)))
    condition = [EVENTS.c.occurred_at < cutoff, EVENTS.c.seq.isnot(None)]
    if slowest is not None:
        condition.append(EVENTS.c.seq <= slowest)
    result = session.execute(delete(EVENTS).where(*condition))
    return result.rowcount or 0
