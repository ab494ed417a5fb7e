"""Tables of experiments: the experiment with its arms, and one exposure row per customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")


class Experiment(Base):
    """An A/B/n test of a broadcast (arms of templates) or of a journey's split step.

    States: draft → testing → decided (the winner sent to the rest) or stopped.
    """

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    salt: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(16), default="revenue")
    arms: Mapped[list] = mapped_column(JSONType, default=list)
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0)
    test_percent: Mapped[int] = mapped_column(Integer, default=100)
    decide_after_hours: Mapped[int] = mapped_column(Integer, default=24)
    window_days: Mapped[int] = mapped_column(Integer, default=7)
    segment_ids: Mapped[list] = mapped_column(JSONType, default=list)
    exclude_segment_ids: Mapped[list] = mapped_column(JSONType, default=list)
    journey_id: Mapped[int | None] = mapped_column(BigInteger)
    step_id: Mapped[str | None] = mapped_column(String(64))
    holdout_branch: Mapped[int | None] = mapped_column(Integer)
    winner: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Exposure(Base):
    """A customer's arm in one experiment, once: holdout, a test arm, or the rollout.

    `window_ends_at` closes the attribution window and `pre_starts_at` opens the pre-period
    (CUPED), both fixed when the exposure is recorded.
    """

    __tablename__ = "experiment_exposures"
    __table_args__ = (Index("ix_experiment_exposures_arm", "experiment_id", "arm"),)

    experiment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    arm: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(8))
    exposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pre_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
