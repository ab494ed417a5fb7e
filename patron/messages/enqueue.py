"""Queueing into the outbox: one row per message, unique on (source, source id, customer,
channel, occurrence), added one at a time (API, test sends) or set-based (broadcast fan-out)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, insert, literal, null, select, text, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.messages.tables import OutboxMessage


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
    data: dict | None = None,
) -> int:
    """Queue one message per customer id the select yields: one INSERT ... SELECT.

    `data` gives every row the same extra template variables (an experiment arm's offer).

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
        literal(data, OutboxMessage.data.type) if data is not None else null(),
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
        "data",
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
