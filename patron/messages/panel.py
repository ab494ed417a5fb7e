"""The "Messages" panel of the customer page: their latest messages with opens and clicks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from patron.messages.tables import MessageActivity, OutboxMessage

PANEL_ROWS = 20


@dataclass(frozen=True)
class LogRow:
    """One message in a customer's log (opens and clicks without bot-flagged ones)."""

    id: int
    state: str
    reason: str | None
    subject: str | None
    channel: str
    sent_at: datetime | None
    opens: int
    clicks: int


def message_log(session: Session, *, customer_id: int, limit: int = PANEL_ROWS) -> list[LogRow]:
    """A customer's latest messages, newest first, with human opens and clicks."""
    human = MessageActivity.bot_reason.is_(None)
    counts = (
        select(
            MessageActivity.outbox_id,
            func.sum(case(((MessageActivity.kind == "open") & human, 1), else_=0)).label("opens"),
            func.sum(case(((MessageActivity.kind == "click") & human, 1), else_=0)).label("clicks"),
        )
        .where(MessageActivity.customer_id == customer_id)
        .group_by(MessageActivity.outbox_id)
        .subquery()
    )
    rows = session.execute(
        select(OutboxMessage, counts.c.opens, counts.c.clicks)
        .outerjoin(counts, counts.c.outbox_id == OutboxMessage.id)
        .where(OutboxMessage.customer_id == customer_id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [
        LogRow(m.id, m.state, m.reason, m.subject, m.channel, m.sent_at, int(o or 0), int(c or 0))
        for m, o, c in rows
    ]


def context(*, session: Session, customer_id: int) -> dict | None:
    """Context of the panel; None hides it for a customer who got no message."""
    rows = message_log(session, customer_id=customer_id)
    return {"message_log": rows} if rows else None
