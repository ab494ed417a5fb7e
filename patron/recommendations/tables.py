"""Tables of recommendations: trained versions, their stored lists, flags, evaluations, clicks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class RecVersion(Base):
    """One training run: `training`, then `ready` (served) or `failed` with the reason."""

    __tablename__ = "recommendation_versions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="training")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    stats: Mapped[dict] = mapped_column(JSONType, default=dict)


class RecList(Base):
    """The top N of one owner (a product, a customer or the shop) for one kind, in a version."""

    __tablename__ = "recommendation_lists"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation_versions.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(8), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    items: Mapped[list] = mapped_column(JSONType, default=list)


class ProductFlag(Base):
    """Recommendation flags of a product: inactive ones are never shown, replenishable ones are
    shown again to customers who bought them."""

    __tablename__ = "recommendation_product_flags"

    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    replenishable: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecEvaluation(Base):
    """One offline evaluation on a time split: a row per kind with its metrics."""

    __tablename__ = "recommendation_evaluations"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime)
    users: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[list] = mapped_column(JSONType, default=list)


class RecImpression(Base):
    """A message that showed recommendations of a kind (under the step's idempotency key)."""

    __tablename__ = "recommendation_impressions"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    products: Mapped[list] = mapped_column(JSONType, default=list)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecClick(Base):
    """A human click on a recommended product link in a message (one per tracked event)."""

    __tablename__ = "recommendation_clicks"
    __table_args__ = (Index("ix_recommendation_clicks_customer", "customer_id", "clicked_at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime)
