"""Use cases of tracking: clicks, opens, unsubscribes, complaints and conversions of messages.

Every activity is a row in message_activity; a bot-flagged one (rules.bot_reason) is kept with
its reason and left out of engagement counts and of the customer's tracked events. A human one
also becomes a tracked event ("Email Clicked", ...) through customers.service.record_event,
so segments and journeys can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.messages import events, links, rules
from patron.messages.tables import MessageActivity, OutboxMessage

EVENT_NAMES = {
    "open": "Email Opened",
    "click": "Email Clicked",
    "unsubscribe": "Email Unsubscribed",
    "complaint": "Email Complaint",
}
# Activity that is not engagement: kept on the message, never a tracked event.
OTHER_KINDS = ("bounce", "order")
ENGAGEMENT_KINDS = ("open", "click")


def _source_properties(message: OutboxMessage) -> dict:
    """What a tracked event says about the message it came from."""
    props = {"message_id": message.id, "template_id": message.template_id}
    if message.source == "broadcast":
        props["broadcast_id"] = message.source_id
    return props


def _seconds_since(message: OutboxMessage, now: datetime) -> float | None:
    """Seconds between delivery and now; None before delivery."""
    return None if message.sent_at is None else (now - message.sent_at).total_seconds()


def record_activity(
    session: Session,
    *,
    message: OutboxMessage,
    kind: str,
    now: datetime,
    url: str | None = None,
    bot: str | None = None,
    user_agent: str | None = None,
) -> MessageActivity:
    """Store one activity and, when it is human, the customer's tracked event."""
    row = MessageActivity(
        outbox_id=message.id,
        customer_id=message.customer_id,
        kind=kind,
        url=url,
        bot_reason=bot,
        user_agent=(user_agent or "")[:512] or None,
        at=now,
    )
    session.add(row)
    session.flush()
    if bot is None:
        events.activity(session, message, kind=kind, now=now, url=url)
    if bot is None and kind in EVENT_NAMES:
        properties = _source_properties(message)
        if url:
            properties["url"] = url
        customers.record_event(
            session=session,
            message_id=f"patron-message-activity-{row.id}",
            type_="track",
            name=EVENT_NAMES[kind],
            customer_id=message.customer_id,
            anonymous_id=None,
            properties=properties,
            context={"source": "messages"},
            occurred_at=now,
            received_at=now,
        )
    return row


def click(
    session: Session, *, secret: str, token: str, user_agent: str | None, now: datetime
) -> str | None:
    """Record a click and return where it redirects (None for the honeypot).

    Raises rules.BadToken for a tampered token or a message that does not exist, before
    anything is written.
    """
    outbox_id, url = links.read_click(secret, token, now=now)
    message = session.get(OutboxMessage, outbox_id)
    if message is None:
        raise rules.BadToken("the link is not valid")
    honeypot = url == links.HONEYPOT_URL
    bot = rules.bot_reason(
        user_agent=user_agent,
        seconds_since_delivery=_seconds_since(message, now),
        honeypot=honeypot,
    )
    record_activity(
        session,
        message=message,
        kind="click",
        now=now,
        url=None if honeypot else url,
        bot=bot,
        user_agent=user_agent,
    )
    return None if honeypot else url


def open_(
    session: Session, *, secret: str, token: str, user_agent: str | None, now: datetime
) -> None:
    """Record an open from the pixel; rules.BadToken when the token is not valid."""
    message = session.get(OutboxMessage, links.read_open(secret, token, now=now))
    if message is None:
        raise rules.BadToken("the link is not valid")
    bot = rules.bot_reason(
        user_agent=user_agent, seconds_since_delivery=_seconds_since(message, now), honeypot=False
    )
    record_activity(session, message=message, kind="open", now=now, bot=bot, user_agent=user_agent)


def unsubscribed(session: Session, *, outbox_id: int | None, now: datetime) -> None:
    """Record the unsubscribe of a message's link (nothing when the message is unknown)."""
    message = session.get(OutboxMessage, outbox_id) if outbox_id is not None else None
    if message is not None:
        record_activity(session, message=message, kind="unsubscribe", now=now)


@dataclass(frozen=True)
class Engagement:
    """Human activity on messages: unique opens and clicks, and how many were bot-flagged."""

    unique_opens: int
    unique_clicks: int
    clicks: int
    bot_flagged: int


def engagement(session: Session, *, outbox_ids: list[int]) -> Engagement:
    """Engagement of some messages, bot-flagged activity left out of the counts."""
    base = select(MessageActivity).where(MessageActivity.outbox_id.in_(outbox_ids))
    human = base.where(MessageActivity.bot_reason.is_(None)).subquery()

    def count(expr, kind: str) -> int:
        return session.scalar(select(expr).select_from(human).where(human.c.kind == kind)) or 0

    flagged = session.scalar(
        select(func.count())
        .select_from(MessageActivity)
        .where(MessageActivity.outbox_id.in_(outbox_ids), MessageActivity.bot_reason.is_not(None))
    )
    return Engagement(
        unique_opens=count(func.count(func.distinct(human.c.outbox_id)), "open"),
        unique_clicks=count(func.count(func.distinct(human.c.outbox_id)), "click"),
        clicks=count(func.count(), "click"),
        bot_flagged=flagged or 0,
    )
