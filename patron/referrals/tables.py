"""Tables of referrals: each customer's code, referrals and their states, alerts, settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")
STATES = ("pending", "qualified", "rejected")


class ReferralCode(Base):
    """A customer's own referral code."""

    __tablename__ = "referral_codes"

    customer_id: Mapped[int] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Referral(Base):
    """A referee attributed to a referrer; a referee is referred at most once."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_referrer_state", "referrer_customer_id", "state"),
        Index("ix_referrals_state_due", "state", "qualifies_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    referrer_customer_id: Mapped[int] = mapped_column(ID)
    referee_customer_id: Mapped[int] = mapped_column(ID, unique=True)
    code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # signup | tracking | api
    state: Mapped[str] = mapped_column(String(16), default="pending")
    rule: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    order_id: Mapped[int | None] = mapped_column(ID)
    order_total_cents: Mapped[int | None] = mapped_column(BigInteger)
    qualifies_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rewards: Mapped[dict] = mapped_column(JSONType, default=dict)
    attributed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReferralAlert(Base):
    """A velocity alert: a referrer attributed too many referees in a short window."""

    __tablename__ = "referral_alerts"
    __table_args__ = (
        Index("uq_referral_alerts_window", "referrer_customer_id", "window_start", unique=True),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    referrer_customer_id: Mapped[int] = mapped_column(ID)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReferralProgramme(Base):
    """The programme's settings (one row, id 1; defaults until saved)."""

    __tablename__ = "referral_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
