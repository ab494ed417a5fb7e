"""Tables of advocates: one credit per advocacy act, and community activity as received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class Credit(Base):
    """One act that counts towards a customer's advocacy score, once (part, ref, customer)."""

    __tablename__ = "advocate_credits"
    __table_args__ = (
        UniqueConstraint("part", "ref", "customer_id", name="uq_advocate_credits_act"),
        Index("ix_advocate_credits_customer", "customer_id", "part"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    part: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommunityActivity(Base):
    """A post, like or other act received from a community (deduplicated by its source id)."""

    __tablename__ = "community_activity"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_community_activity_source_id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    username: Mapped[str | None] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommunityMember(Base):
    """A community account's email, learnt from user webhooks, to map later posts by username."""

    __tablename__ = "community_members"
    __table_args__ = (UniqueConstraint("source", "username", name="uq_community_members_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
