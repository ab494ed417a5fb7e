"""Tables of coupons: campaigns, their codes, each redemption, and exclusive offers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class CouponCampaign(Base):
    """A discount and its rules; its codes are one shared code or a batch of unique ones."""

    __tablename__ = "coupon_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # shared | unique
    discount_type: Mapped[str] = mapped_column(String(16))  # percent | fixed | free_shipping
    percent: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    min_order_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    skus: Mapped[list] = mapped_column(JSONType, default=list)
    categories: Mapped[list] = mapped_column(JSONType, default=list)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    total_limit: Mapped[int | None] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(64))
    in_templates: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Kept exact under concurrency: incremented under the campaign's row lock.
    redeemed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CouponCode(Base):
    """One code of a campaign; a personal code names its customer and its issue key."""

    __tablename__ = "coupon_codes"
    __table_args__ = (Index("ix_coupon_codes_campaign", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("coupon_campaigns.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ID, index=True)
    issue_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    redeemed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CouponRedemption(Base):
    """A code used on one order: counted once per (code, order)."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        Index("uq_coupon_redemptions_code_order", "code_id", "order_ref", unique=True),
        Index("ix_coupon_redemptions_campaign_customer", "campaign_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("coupon_campaigns.id", ondelete="CASCADE")
    )
    code_id: Mapped[int] = mapped_column(ID, ForeignKey("coupon_codes.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ID)
    order_ref: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[int | None] = mapped_column(ID)
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    source: Mapped[str] = mapped_column(String(16))  # order | api
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Offer(Base):
    """An exclusive offer or early access, visible to a segment or tier between two dates."""

    __tablename__ = "coupon_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # exclusive | early_access
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2048), default="")
    segment_id: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("coupon_campaigns.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
