"""Typed domain events of messages, appended in the transaction that records the change.

Every event names its outbox row (`outbox_id`), its source (broadcast, journey step, API ...),
template, channel, kind and Message-ID; journeys and webhooks consume them. Rows changed many
at once (skipped at screening or pacing, uncertain after a lease ran out) get their events
with one INSERT ... SELECT (`append_rows`). Opens and clicks are appended for humans only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.events.service import append, append_select
from patron.events.types import DomainEvent
from patron.messages.tables import OutboxMessage


@dataclass(frozen=True)
class MessageEvent(DomainEvent):
    """What every message event says about its outbox row."""

    outbox_id: int
    source: str
    source_id: int
    template_id: int
    channel: str
    kind: str
    message_id: str | None


@dataclass(frozen=True)
class MessageSent(MessageEvent):
    """The channel accepted the message."""

    type = "message.sent"


@dataclass(frozen=True)
class MessageFailed(MessageEvent):
    """A permanent failure, or temporary ones until retries gave up."""

    type = "message.failed"
    reason: str | None = None


@dataclass(frozen=True)
class MessageBounced(MessageEvent):
    """A hard bounce, at send time (SMTP 5xx) or from a provider's notification."""

    type = "message.bounced"
    reason: str | None = None


@dataclass(frozen=True)
class MessageSkipped(MessageEvent):
    """Not sent, with its reason (consent, suppressed, topic, frequency_cap ...)."""

    type = "message.skipped"
    reason: str | None = None


@dataclass(frozen=True)
class MessageUncertain(MessageEvent):
    """The sender stopped during the attempt: it may have been delivered."""

    type = "message.uncertain"
    reason: str | None = None


@dataclass(frozen=True)
class MessageOpened(MessageEvent):
    """A human opened the message (bot-flagged opens are not events)."""

    type = "message.opened"


@dataclass(frozen=True)
class MessageClicked(MessageEvent):
    """A human clicked a link of the message."""

    type = "message.clicked"
    url: str | None = None


@dataclass(frozen=True)
class MessageUnsubscribed(MessageEvent):
    """The customer unsubscribed through the message's link."""

    type = "message.unsubscribed"


@dataclass(frozen=True)
class MessageComplained(MessageEvent):
    """The recipient marked the message as spam."""

    type = "message.complained"


# "sent" is logged set-based by outbox.log_sent (the fast path records it with one UPDATE).
_BY_STATE = {"failed": MessageFailed, "bounced": MessageBounced}
_BY_ACTIVITY = {
    "open": MessageOpened,
    "click": MessageClicked,
    "unsubscribe": MessageUnsubscribed,
    "complaint": MessageComplained,
}
_REASONED = (MessageFailed, MessageBounced, MessageSkipped, MessageUncertain)
EVENT_TYPES = tuple(
    e.type
    for e in (
        MessageSent,
        MessageFailed,
        MessageBounced,
        MessageSkipped,
        MessageUncertain,
        MessageOpened,
        MessageClicked,
        MessageUnsubscribed,
        MessageComplained,
    )
)


def of_row(cls: type[MessageEvent], row: OutboxMessage, **extra) -> MessageEvent:
    """The event of one outbox row."""
    if cls in _REASONED:
        extra.setdefault("reason", row.reason)
    return cls(
        customer_id=row.customer_id,
        outbox_id=row.id,
        source=row.source,
        source_id=row.source_id,
        template_id=row.template_id,
        channel=row.channel,
        kind=row.kind,
        message_id=row.message_id,
        **extra,
    )


def recorded(session: Session, row: OutboxMessage, *, now: datetime) -> None:
    """The event of an attempt's outcome (none for a retry: the row is queued again)."""
    cls = _BY_STATE.get(row.state)
    if cls is not None:
        append(session, [of_row(cls, row)], now=now)


def bounced(session: Session, row: OutboxMessage, *, now: datetime) -> None:
    """A delivered message turned out to hard-bounce (a provider's notification)."""
    append(session, [of_row(MessageBounced, row)], now=now)


def activity(
    session: Session, row: OutboxMessage, *, kind: str, now: datetime, url: str | None = None
) -> None:
    """The event of a human activity on a message (open, click, unsubscribe, complaint)."""
    cls = _BY_ACTIVITY.get(kind)
    if cls is None:
        return
    extra = {"url": url} if cls is MessageClicked else {}
    append(session, [of_row(cls, row, **extra)], now=now)


def append_rows(
    session: Session, cls: type[MessageEvent], ids: Collection[int], *, now: datetime
) -> int:
    """One event per outbox row of `ids`, in one INSERT ... SELECT; returns how many."""
    if not ids:
        return 0
    o = OutboxMessage
    columns = [
        o.customer_id,
        o.id.label("outbox_id"),
        o.source.label("source"),
        o.source_id.label("source_id"),
        o.template_id.label("template_id"),
        o.channel.label("channel"),
        o.kind.label("kind"),
        o.message_id.label("message_id"),
    ]
    if cls in _REASONED:
        columns.append(o.reason.label("reason"))
    query = select(*columns).where(o.id.in_(sorted(ids))).order_by(o.id)
    return append_select(session, cls.type, query, now=now)
