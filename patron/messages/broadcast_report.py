"""The report of one broadcast: outbox states, skip reasons, and engagement from activity."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from patron.messages.tables import Broadcast, MessageActivity, OutboxMessage

# Rows that will still be tried: queued (perhaps deferred by cap or quiet hours) or being sent.
PENDING = ("queued", "sending")


def _mine(broadcast_id: int):
    """Condition: an outbox row of this broadcast."""
    return and_(OutboxMessage.source == "broadcast", OutboxMessage.source_id == broadcast_id)


def _activity(session: Session, broadcast_id: int) -> dict:
    """Unique human opens and clicks, unsubscribes, complaints, conversions and revenue."""
    rows = session.execute(
        select(
            MessageActivity.kind,
            func.count(func.distinct(MessageActivity.customer_id)),
            func.coalesce(func.sum(MessageActivity.revenue_cents), 0),
        )
        .join(OutboxMessage, OutboxMessage.id == MessageActivity.outbox_id)
        .where(_mine(broadcast_id), MessageActivity.bot_reason.is_(None))
        .group_by(MessageActivity.kind)
    ).all()
    by_kind = {kind: (people, revenue) for kind, people, revenue in rows}
    return {
        "unique_opens": by_kind.get("open", (0, 0))[0],
        "unique_clicks": by_kind.get("click", (0, 0))[0],
        "unsubscribes": by_kind.get("unsubscribe", (0, 0))[0],
        "complaints": by_kind.get("complaint", (0, 0))[0],
        "conversions": by_kind.get("order", (0, 0))[0],
        "revenue_cents": int(by_kind.get("order", (0, 0))[1]),
    }


def report(session: Session, *, broadcast: Broadcast) -> dict:
    """Audience, each outbox state, skipped and deferred by reason, and engagement."""
    states = dict(
        session.execute(
            select(OutboxMessage.state, func.count())
            .where(_mine(broadcast.id))
            .group_by(OutboxMessage.state)
        ).all()
    )
    reasons = session.execute(
        select(OutboxMessage.state, OutboxMessage.reason, func.count())
        .where(_mine(broadcast.id), OutboxMessage.state.in_(("skipped", "queued")))
        .where(OutboxMessage.reason.is_not(None))
        .group_by(OutboxMessage.state, OutboxMessage.reason)
    ).all()
    sent = states.get("sent", 0)
    activity = _activity(session, broadcast.id)
    return {
        "id": broadcast.id,
        "name": broadcast.name,
        "state": broadcast.state,
        "audience": broadcast.audience_size or 0,
        "queued": sum(states.get(s, 0) for s in PENDING),
        "sent": sent,
        "skipped": states.get("skipped", 0),
        "skipped_by_reason": {r: n for s, r, n in reasons if s == "skipped"},
        "deferred_by_reason": {r: n for s, r, n in reasons if s == "queued"},
        "suppressed": states.get("suppressed", 0),
        "failed": states.get("failed", 0),
        "bounced": states.get("bounced", 0),
        "uncertain": states.get("uncertain", 0),
        **activity,
        "revenue_per_recipient_cents": activity["revenue_cents"] // sent if sent else 0,
        "started_at": broadcast.started_at,
        "finished_at": broadcast.finished_at,
    }
