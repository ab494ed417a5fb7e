"""The report of one broadcast: outbox states, skip reasons, engagement, links and a timeline.

Sent counts messages the receiving server accepted (`sent_at` set); a hard bounce reported
later turns such a row into `bounced`, so delivered = sent minus bounced after send (rows
still in state `sent`). Bounced counts both kinds: refused at send time (SMTP 5xx) and
reported afterwards. Engagement is human only: bot-flagged activity is left out everywhere
and shown on its own as bot clicks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, and_, case, func, literal_column, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from patron.messages import report_chart
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
    bots = session.scalar(
        select(func.count())
        .select_from(MessageActivity)
        .join(OutboxMessage, OutboxMessage.id == MessageActivity.outbox_id)
        .where(
            _mine(broadcast_id),
            MessageActivity.kind == "click",
            MessageActivity.bot_reason.is_not(None),
        )
    )
    return {
        "bot_clicks": bots or 0,
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
    delivered = states.get("sent", 0)
    bounced_after = session.scalar(
        select(func.count()).where(
            _mine(broadcast.id),
            OutboxMessage.state == "bounced",
            OutboxMessage.sent_at.is_not(None),
        )
    )
    sent = delivered + (bounced_after or 0)
    activity = _activity(session, broadcast.id)
    return {
        "id": broadcast.id,
        "name": broadcast.name,
        "state": broadcast.state,
        "audience": broadcast.audience_size or 0,
        "queued": sum(states.get(s, 0) for s in PENDING),
        "sent": sent,
        "delivered": delivered,
        "skipped": states.get("skipped", 0),
        "skipped_by_reason": {r: n for s, r, n in reasons if s == "skipped"},
        "deferred_by_reason": {r: n for s, r, n in reasons if s == "queued"},
        "suppressed": states.get("suppressed", 0),
        "failed": states.get("failed", 0),
        "bounced": states.get("bounced", 0),
        "bounced_after_send": bounced_after or 0,
        "uncertain": states.get("uncertain", 0),
        **activity,
        "revenue_per_recipient_cents": activity["revenue_cents"] // sent if sent else 0,
        "started_at": broadcast.started_at,
        "finished_at": broadcast.finished_at,
        "links": links(session, broadcast_id=broadcast.id),
        "timeline": timeline(session, broadcast_id=broadcast.id),
    }


def links(session: Session, *, broadcast_id: int) -> list[dict]:
    """Clicks per link: unique human clickers, human clicks, and bot clicks kept apart."""
    human = MessageActivity.bot_reason.is_(None)
    clicks = func.count(case((human, 1)))
    rows = session.execute(
        select(
            MessageActivity.url,
            func.count(func.distinct(case((human, MessageActivity.customer_id)))),
            clicks,
            func.count(case((~human, 1))),
        )
        .join(OutboxMessage, OutboxMessage.id == MessageActivity.outbox_id)
        .where(
            _mine(broadcast_id),
            MessageActivity.kind == "click",
            MessageActivity.url.is_not(None),
        )
        .group_by(MessageActivity.url)
        .order_by(clicks.desc(), MessageActivity.url)
    ).all()
    return [
        {"url": url, "unique_clickers": people, "clicks": n, "bot_clicks": bots}
        for url, people, n, bots in rows
    ]


class bucket_of(FunctionElement):
    """Which bucket of `size` seconds from `start` (Unix seconds) a timestamp falls in."""

    type = Integer()
    inherit_cache = False

    def __init__(self, column, *, start: int, size: int):
        self.start, self.size = int(start), int(size)
        super().__init__(column)


@compiles(bucket_of)
def _bucket_of_default(element, compiler, **kw):
    """PostgreSQL: seconds since the epoch (start and size are integers we computed)."""
    value = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"CAST(FLOOR((EXTRACT(EPOCH FROM {value}) - {element.start}) / {element.size}) AS INTEGER)"
    )


@compiles(bucket_of, "sqlite")
def _bucket_of_sqlite(element, compiler, **kw):
    """SQLite stores naive UTC text: strftime('%s'); integer division floors (never negative)."""
    value = compiler.process(next(iter(element.clauses)), **kw)
    return f"((CAST(strftime('%s', {value}) AS INTEGER) - {element.start}) / {element.size})"


def _events(broadcast_id: int):
    """(series, at) of every send, human open and human click of a broadcast."""
    sends = select(
        literal_column("'sends'").label("series"), OutboxMessage.sent_at.label("at")
    ).where(_mine(broadcast_id), OutboxMessage.sent_at.is_not(None))
    activity = (
        select(MessageActivity.kind.label("series"), MessageActivity.at.label("at"))
        .join(OutboxMessage, OutboxMessage.id == MessageActivity.outbox_id)
        .where(
            _mine(broadcast_id),
            MessageActivity.bot_reason.is_(None),
            MessageActivity.kind.in_(("open", "click")),
        )
    )
    return union_all(sends, activity).subquery()


def timeline(session: Session, *, broadcast_id: int) -> dict:
    """Sends, human opens and human clicks per hour (first 48 h) or per day (longer spans)."""
    events = _events(broadcast_id)
    first, last = session.execute(select(func.min(events.c.at), func.max(events.c.at))).one()
    if first is None:
        return report_chart.buckets_of(unit="hour", start=None, counts={}, count=0)
    first, last = (_aware(t) for t in (first, last))
    unit, start, size, count = report_chart.plan(first, last)
    bucket = bucket_of(events.c.at, start=int(start.timestamp()), size=size)
    rows = session.execute(
        select(events.c.series, bucket.label("bucket"), func.count())
        .where(bucket < count)
        .group_by(events.c.series, bucket)
    ).all()
    counts = {(series, int(n)): total for series, n, total in rows}
    return report_chart.buckets_of(unit=unit, start=start, counts=counts, count=count)


def _aware(value) -> datetime:
    """An aggregate of a UTC column (SQLite answers naive text, PostgreSQL an aware value)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
