"""Tables of gatherings: events (webinars, appreciation evenings) and one invitation per guest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class Gathering(Base):
    """An event customers are invited to: when (with its time zone), where, how many seats."""

    __tablename__ = "gatherings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    online_url: Mapped[str | None] = mapped_column(String(2048))
    place: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None] = mapped_column(Integer)
    waitlist: Mapped[bool] = mapped_column(Boolean, default=True)
    # Seats taken, changed only under a lock on this row (the capacity check reads it).
    going: Mapped[int] = mapped_column(Integer, default=0)
    invite_template_id: Mapped[int | None] = mapped_column(BigInteger)
    reminder_template_id: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invitation(Base):
    """One customer invited to one event: their answer, seat or waitlist place, attendance."""

    __tablename__ = "gathering_invitations"
    __table_args__ = (
        UniqueConstraint("gathering_id", "customer_id", name="uq_gathering_invitations_guest"),
        Index("ix_gathering_invitations_status", "gathering_id", "status", "waitlisted_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    gathering_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), default="invited")
    answer: Mapped[str | None] = mapped_column(String(8))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_source: Mapped[str | None] = mapped_column(String(16))
