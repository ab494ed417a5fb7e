"""Tables of segments: saved rule trees, current memberships, and every entry and exit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

CHANGES = ("entered", "exited")


class Segment(Base):
    """A saved audience: a rule tree with a name; built-in ones carry a builtin_key."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[dict] = mapped_column(JSONType)
    builtin_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Memberships and changes carry no foreign keys on purpose: a per-row foreign key check made
# materialising a few hundred thousand members several times slower on PostgreSQL. Deleting a
# segment deletes its rows (service.delete_segment); a deleted customer's memberships leave at
# the segment's next full refresh, and member listings join customers, so they never show.
ID = BigInteger().with_variant(Integer, "sqlite")


class SegmentMembership(Base):
    """A customer currently in a segment, since entered_at."""

    __tablename__ = "segment_memberships"
    __table_args__ = (Index("ix_segment_memberships_customer", "customer_id"),)

    segment_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ID, primary_key=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SegmentChange(Base):
    """A customer entering or leaving a segment, for journeys to trigger on."""

    __tablename__ = "segment_changes"
    __table_args__ = (
        Index("ix_segment_changes_segment_time", "segment_id", "changed_at"),
        Index("ix_segment_changes_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    segment_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ID)
    change: Mapped[str] = mapped_column(String(8))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
