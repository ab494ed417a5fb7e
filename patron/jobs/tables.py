"""The job table: one row per unit of deferred work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

JOB_STATES = ("pending", "running", "done", "failed")
ACTIVE = "state IN ('pending', 'running')"
EFFECT_STATES = ("started", "done", "uncertain")


class Job(Base):
    """Deferred work: claimed with a lease, retried when a worker dies, done exactly once."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_due", "queue", "state", "priority", "run_at"),
        # A dedupe key is unique only among active jobs: it can be used again once one is done.
        Index(
            "uq_jobs_active_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        Index("ix_jobs_finished_at", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    queue: Mapped[str] = mapped_column(String(32), default="default")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobEffect(Base):
    """An outside effect (an email, an HTTP call) of a job, recorded before it is attempted.

    `started` is written and committed before acting and `done` after; a `started` row found
    by a retry means the worker died between acting and recording, so the effect becomes
    `uncertain` and is never performed again.
    """

    __tablename__ = "job_effects"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger, index=True)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[dict] = mapped_column(JSONType, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class JobSchedule(Base):
    """The last period each scheduled job kind was enqueued for (once per period, any workers)."""

    __tablename__ = "job_schedules"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_slot: Mapped[int] = mapped_column(BigInteger)
