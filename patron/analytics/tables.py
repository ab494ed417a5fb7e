"""Tables of computed customer scores, lifecycle stage history and score refresh runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime


class CustomerScore(Base):
    """Latest scores of one customer, written by `patron refresh` for segments to filter on."""

    __tablename__ = "customer_scores"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recency_score: Mapped[int | None] = mapped_column(Integer)
    frequency_score: Mapped[int | None] = mapped_column(Integer)
    monetary_score: Mapped[int | None] = mapped_column(Integer)
    rfm_segment: Mapped[str | None] = mapped_column(String(32), index=True)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(16), index=True)
    p_alive: Mapped[float | None] = mapped_column(Float)
    churn_risk: Mapped[float | None] = mapped_column(Float)
    expected_purchases_90d: Mapped[float | None] = mapped_column(Float)
    expected_spend_cents: Mapped[int | None] = mapped_column(BigInteger)
    predicted_clv_cents: Mapped[int | None] = mapped_column(BigInteger, index=True)
    clv_percentile: Mapped[float | None] = mapped_column(Float)


class LifecycleChange(Base):
    """A customer's move from one lifecycle stage to another, for automations to react to."""

    __tablename__ = "lifecycle_changes"
    __table_args__ = (Index("ix_lifecycle_changes_customer_time", "customer_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ScoreRun(Base):
    """One completed score refresh: what it covered, the model it fitted, or why it could not."""

    __tablename__ = "score_runs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    customers: Mapped[int] = mapped_column(Integer)
    buyers: Mapped[int] = mapped_column(Integer)
    stage_changes: Mapped[int] = mapped_column(Integer)
    cycle_days: Mapped[float | None] = mapped_column(Float)
    model: Mapped[str | None] = mapped_column(String(32))
    model_fit: Mapped[dict] = mapped_column(JSONType, default=dict)
    fit_note: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float)
