"""Tables of messages: templates, layouts, the outbox, broadcasts, consent topics, suppression."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class Layout(Base):
    """A shared frame (brand header, footer with address and unsubscribe) around bodies."""

    __tablename__ = "message_layouts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Template(Base):
    """A message a marketer writes once and sends to many: email or webhook (SMS, push)."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    kind: Mapped[str] = mapped_column(String(16), default="marketing")
    topic: Mapped[str | None] = mapped_column(String(64))
    layout_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TemplateVariant(Base):
    """A template's content in one locale ("" is the default every locale falls back to)."""

    __tablename__ = "message_template_variants"
    __table_args__ = (UniqueConstraint("template_id", "locale"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    template_id: Mapped[int] = mapped_column(BigInteger, index=True)
    locale: Mapped[str] = mapped_column(String(35), default="")
    format: Mapped[str] = mapped_column(String(8), default="html")
    subject: Mapped[str] = mapped_column(Text, default="")
    preheader: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)


class Broadcast(Base):
    """One send of a template to an audience of segments, now, later or at local time."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    template_id: Mapped[int] = mapped_column(BigInteger, index=True)
    segment_ids: Mapped[list] = mapped_column(JSONType, default=list)
    exclude_segment_ids: Mapped[list] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    local_time: Mapped[str | None] = mapped_column(String(5))  # "09:30" in each customer's zone
    audience_size: Mapped[int | None] = mapped_column(Integer)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """One message to one customer on one channel: claimed by workers, sent at most once.

    Unique on (source, source id, customer, channel, occurrence), so fanning out twice, or
    pressing send twice, queues one row. `occurrence` tells repeated sends of one source apart
    (a journey step entered again next year).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("source", "source_id", "customer_id", "channel", "occurrence"),
        Index("ix_outbox_due", "state", "priority", "send_after"),
        Index("ix_outbox_customer_sent", "customer_id", "sent_at"),
        Index(
            "ix_outbox_sent_unlogged",
            "id",
            sqlite_where=text("sent_at IS NOT NULL AND NOT sent_logged"),
            postgresql_where=text("sent_at IS NOT NULL AND NOT sent_logged"),
        ),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    occurrence: Mapped[str] = mapped_column(String(64), default="")
    template_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default="marketing")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_after: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set (and committed) just before the attempt: a row whose lease runs out while `sending`
    # with it set may have been delivered (uncertain); without it, it never left (queued again).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    data: Mapped[dict | None] = mapped_column(JSONType)  # extra template variables (API sends)
    last_error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether its `message.sent` event is in the log: the fast send path records "sent" with
    # one UPDATE, and `outbox.log_sent` appends the events for a batch in one statement.
    sent_logged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MessageActivity(Base):
    """What happened to a sent message: open, click, unsubscribe, complaint, bounce, order."""

    __tablename__ = "message_activity"
    __table_args__ = (Index("ix_message_activity_message", "outbox_id", "kind"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(Text)
    bot_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    revenue_cents: Mapped[int | None] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CapturedMessage(Base):
    """A message the `capture` channel kept instead of sending (the dashboard mailbox)."""

    __tablename__ = "captured_messages"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSONType, default=dict)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Suppression(Base):
    """An address no message goes to (hard bounce, complaint, manual) until cleared on purpose."""

    __tablename__ = "suppressions"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Topic(Base):
    """A subscription topic (newsletter, offers, events, product news)."""

    __tablename__ = "subscription_topics"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    opt_in: Mapped[bool] = mapped_column(Boolean, default=False)


class TopicChoice(Base):
    """A customer's choice on one topic (absent: the topic's default)."""

    __tablename__ = "subscription_choices"

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
