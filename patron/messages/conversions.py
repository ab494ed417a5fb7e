"""Conversions: an order attributed to the marketing message that led to it, once per order.

The consumer of `order.completed` looks for the customer's latest human click within the click
window (PATRON_MESSAGES_CLICK_ATTRIBUTION_DAYS, default 5), else the latest marketing message
delivered within the delivery window (default 1 day), and records an `order` activity on it
with the order's revenue. message_activity.order_id is unique, so an order (and a replayed or
replaced order.completed) counts once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.messages import config, rules
from patron.messages.tables import MessageActivity, OutboxMessage

CONSUMER = "messages.conversions"
EVENT_TYPES = frozenset({"order.completed"})


def _placed_at(data: dict, fallback: datetime) -> datetime:
    """When the order was placed (aware UTC), or the event's time."""
    try:
        placed = datetime.fromisoformat(str(data.get("placed_at")))
    except ValueError:
        return fallback
    return placed if placed.tzinfo else fallback


def _last_click(session: Session, customer_id: int, since: datetime, until: datetime):
    """(message, clicked at) of the customer's latest human click in a window."""
    row = session.execute(
        select(OutboxMessage, MessageActivity.at)
        .join(MessageActivity, MessageActivity.outbox_id == OutboxMessage.id)
        .where(
            MessageActivity.customer_id == customer_id,
            MessageActivity.kind == "click",
            MessageActivity.bot_reason.is_(None),
            MessageActivity.at.between(since, until),
            OutboxMessage.kind == "marketing",
        )
        .order_by(MessageActivity.at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _last_delivery(session: Session, customer_id: int, since: datetime, until: datetime):
    """The customer's latest marketing message delivered in a window."""
    return session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.customer_id == customer_id,
            OutboxMessage.kind == "marketing",
            OutboxMessage.state == "sent",
            OutboxMessage.sent_at.between(since, until),
        )
        .order_by(OutboxMessage.sent_at.desc())
        .limit(1)
    )


def attribute(
    session: Session,
    *,
    customer_id: int,
    order_id: int,
    order_at: datetime,
    revenue_cents: int,
    click_days: int,
    delivery_days: int,
) -> OutboxMessage | None:
    """Record the order as a conversion of the message that earned it; None when none did."""
    if session.scalar(select(MessageActivity.id).where(MessageActivity.order_id == order_id)):
        return None
    message, clicked_at = _last_click(
        session, customer_id, order_at - timedelta(days=click_days), order_at
    )
    if message is None:
        message = _last_delivery(
            session, customer_id, order_at - timedelta(days=delivery_days), order_at
        )
    if message is None:
        return None
    how = rules.attributed(
        order_at,
        delivered_at=message.sent_at,
        clicked_at=clicked_at,
        click_days=click_days,
        delivery_days=delivery_days,
    )
    if how is None:
        return None
    try:
        with session.begin_nested():
            session.add(
                MessageActivity(
                    outbox_id=message.id,
                    customer_id=customer_id,
                    kind="order",
                    url=how,  # "click" or "delivery": what earned the conversion
                    revenue_cents=revenue_cents,
                    order_id=order_id,
                    at=order_at,
                )
            )
            session.flush()
    except IntegrityError:  # a concurrent consumer attributed it first
        return None
    return message


def on_order_completed(*, session: Session, events, now: datetime) -> None:
    """The consumer: attribute each completed order to a message, at most once."""
    settings = config.from_env("")
    for event in events:
        data = event.data
        if event.customer_id is None or not isinstance(data.get("order_id"), int):
            continue
        attribute(
            session,
            customer_id=event.customer_id,
            order_id=data["order_id"],
            order_at=_placed_at(data, event.occurred_at),
            revenue_cents=int(data.get("total_cents") or 0),
            click_days=settings.click_days,
            delivery_days=settings.delivery_days,
        )
