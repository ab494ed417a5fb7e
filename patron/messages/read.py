"""Set-based reads of the outbox for other capabilities (journey reports, experiments)."""

from __future__ import annotations

from sqlalchemy import String, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from patron.messages.tables import MessageActivity, OutboxMessage


class occurrence_prefix(FunctionElement):
    """The part of an occurrence before its first ':' (all of it when there is none)."""

    type = String()
    inherit_cache = True


@compiles(occurrence_prefix)
def _prefix_default(element, compiler, **kw):
    """PostgreSQL: split_part."""
    return f"split_part({compiler.process(element.clauses, **kw)}, ':', 1)"


@compiles(occurrence_prefix, "sqlite")
def _prefix_sqlite(element, compiler, **kw):
    """SQLite: substr up to the first ':' of the value with a ':' appended."""
    value = compiler.process(element.clauses, **kw)
    return f"substr({value}, 1, instr({value} || ':', ':') - 1)"


def counts_by_occurrence_prefix(
    session: Session, *, source: str, source_ids: list[int]
) -> dict[tuple[int, str], dict[str, int]]:
    """Messages, sent, delivered and human-clicked messages per (source id, occurrence prefix).

    Sent: the receiving server accepted it (`sent_at` set); delivered: still `sent` (a hard
    bounce reported later is not); clicked: messages with at least one human click.
    """
    if not source_ids:
        return {}
    clicked = (
        select(MessageActivity.outbox_id)
        .where(MessageActivity.kind == "click", MessageActivity.bot_reason.is_(None))
        .distinct()
        .subquery()
    )
    prefix = occurrence_prefix(OutboxMessage.occurrence)
    rows = session.execute(
        select(
            OutboxMessage.source_id,
            prefix.label("prefix"),
            func.count(),
            func.count(OutboxMessage.sent_at),
            func.count(case((OutboxMessage.state == "sent", 1))),
            func.count(clicked.c.outbox_id),
        )
        .outerjoin(clicked, clicked.c.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.source == source, OutboxMessage.source_id.in_(source_ids))
        .group_by(OutboxMessage.source_id, prefix)
    ).all()
    return {
        (source_id, key): {"messages": n, "sent": sent, "delivered": ok, "clicked": clicks}
        for source_id, key, n, sent, ok, clicks in rows
    }


def activity_by_customer(*, source: str, source_ids: list[int]):
    """A subquery of (customer_id, clicked, unsubscribed, complained) flags, 0 or 1, over the
    messages of these sources: human clicks only; one row per customer who had a message."""
    human_click = (MessageActivity.kind == "click") & MessageActivity.bot_reason.is_(None)
    flags = {
        "clicked": human_click,
        "unsubscribed": MessageActivity.kind == "unsubscribe",
        "complained": MessageActivity.kind == "complaint",
    }
    return (
        select(
            OutboxMessage.customer_id.label("customer_id"),
            *(func.max(case((cond, 1), else_=0)).label(name) for name, cond in flags.items()),
        )
        .outerjoin(MessageActivity, MessageActivity.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.source == source, OutboxMessage.source_id.in_(source_ids))
        .group_by(OutboxMessage.customer_id)
        .subquery("message_flags")
    )
