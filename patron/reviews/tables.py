"""Tables of reviews: one request per customer and product, and the reviews with their state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")
REQUEST_STATES = ("queued", "requested", "reviewed")
REVIEW_STATES = ("pending", "approved", "rejected")


class ReviewRequest(Base):
    """A product a customer bought, asked for a review once: queued, requested, reviewed."""

    __tablename__ = "review_requests"
    __table_args__ = (
        UniqueConstraint("customer_id", "sku"),
        Index("ix_review_requests_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """A customer's review of a product: rating 1-5, title, text, verified buyer, moderation."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("customer_id", "sku"),
        Index("ix_reviews_sku_state", "sku", "state"),
        Index("ix_reviews_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    rating: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100), default="")
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first approval: review.approved is published then only (an edit never earns twice).
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
