"""Tables of the event log: the events, and one cursor row per consumer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime


class LoggedEvent(Base):
    """One domain event, appended in the transaction of the change it records.

    `seq` is the log position, given at commit time under a lock so that positions are
    committed in order (see patron.events.service); it is NULL only while uncommitted.
    `tx` is the writing transaction's id on PostgreSQL (0 on SQLite).
    """

    __tablename__ = "domain_events"
    __table_args__ = (
        Index("ix_domain_events_seq", "seq", unique=True),
        Index("ix_domain_events_tx", "tx"),
        Index("ix_domain_events_occurred_at", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    tx: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsumerCursor(Base):
    """Where one consumer has read up to, and whether it is failing."""

    __tablename__ = "event_consumers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    handled: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
