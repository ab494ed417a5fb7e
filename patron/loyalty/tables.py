"""Tables of loyalty: programme, earn rules, accounts, the append-only ledger, lots, tiers,
rewards and redemptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")
ENTRY_KINDS = ("earned", "released", "redeemed", "expired", "adjusted", "clawed_back", "reversed")


class LoyaltyProgramme(Base):
    """The programme's settings: one row (id 1), validated by `rules.Programme`."""

    __tablename__ = "loyalty_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyRule(Base):
    """An earn rule (`rules.RuleConfig`) and the points it has given against its budget."""

    __tablename__ = "loyalty_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict] = mapped_column(JSONType, default=dict)
    spent_points: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyAccount(Base):
    """A member: the sums of their entries (balance, pending), tier and tier period."""

    __tablename__ = "loyalty_accounts"

    customer_id: Mapped[int] = mapped_column(ID, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    tier: Mapped[str | None] = mapped_column(String(64), index=True)
    tier_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyLot(Base):
    """The points of one earning: pending until released, then spent oldest first."""

    __tablename__ = "loyalty_lots"
    __table_args__ = (
        Index("ix_loyalty_lots_customer", "customer_id", "earned_at", "id"),
        Index("ix_loyalty_lots_release", "release_at"),
        Index("ix_loyalty_lots_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ID)
    points: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    remaining: Mapped[int] = mapped_column(BigInteger, default=0)
    clawed: Mapped[int] = mapped_column(BigInteger, default=0)
    order_id: Mapped[int | None] = mapped_column(ID, index=True)
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    release_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned: Mapped[bool] = mapped_column(Boolean, default=False)


class LoyaltyEntry(Base):
    """An append-only ledger entry: `points` moves the balance, `pending` the pending sum.

    `amount_cents` is the net spend it stands for (tiers on spend); `key` makes a source
    earn once; `detail` keeps extra facts (a clawback's unrecovered shortfall).
    """

    __tablename__ = "loyalty_entries"
    __table_args__ = (
        Index("ix_loyalty_entries_customer", "customer_id", "id"),
        Index("ix_loyalty_entries_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(255))
    lot_id: Mapped[int | None] = mapped_column(ID, index=True)
    order_id: Mapped[int | None] = mapped_column(ID)
    event_id: Mapped[int | None] = mapped_column(ID)
    rule_id: Mapped[int | None] = mapped_column(Integer, index=True)
    redemption_id: Mapped[int | None] = mapped_column(ID)
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyTierChange(Base):
    """Tier history: each change of a member's tier."""

    __tablename__ = "loyalty_tier_changes"
    __table_args__ = (Index("ix_loyalty_tier_changes_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ID)
    from_tier: Mapped[str | None] = mapped_column(String(64))
    to_tier: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyReward(Base):
    """A catalogue reward: its kind (`loyalty.reward_kinds`), cost, stock and limits."""

    __tablename__ = "loyalty_rewards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    cost_points: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(BigInteger)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoyaltyRedemption(Base):
    """A redemption, once per idempotency key, with the answer given the first time."""

    __tablename__ = "loyalty_redemptions"
    __table_args__ = (Index("ix_loyalty_redemptions_customer", "customer_id", "reward_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(ID)
    reward_id: Mapped[int] = mapped_column(Integer, ForeignKey("loyalty_rewards.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
