"""Tables of journeys: journeys, their versions, enrolments, and the step-run ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")
JOURNEY_STATES = ("draft", "live", "paused", "archived")
ENROLMENT_STATES = ("active", "waiting", "completed", "converted", "exited", "failed")
LIVE = "state IN ('active', 'waiting')"


class Journey(Base):
    """A journey: its name, state and the version new customers enter."""

    __tablename__ = "journeys"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    current_version_id: Mapped[int | None] = mapped_column(BigInteger)
    playbook: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JourneyVersion(Base):
    """One saved definition of a journey; never changed once saved (an edit is a new one)."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("journey_id", "number"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Enrolment(Base):
    """A customer's way through one version of a journey: where, in which state, due when.

    `active`: the step `step_id` runs at `due_at`. `waiting`: parked at the wait step `step_id`
    until `due_at` (or, for wait_for, until the event). The rest are final. `iteration`
    counts the waits the enrolment has finished, so (step, iteration) never repeats within
    an enrolment even when a loop passes a step again.
    """

    __tablename__ = "journey_enrolments"
    __table_args__ = (
        Index(
            "uq_journey_enrolments_live",
            "journey_id",
            "customer_id",
            unique=True,
            sqlite_where=text(LIVE),
            postgresql_where=text(LIVE),
        ),
        Index("ix_journey_enrolments_due", "state", "due_at"),
        # The engine claims the earliest due live enrolments: an ordered scan of this index.
        Index(
            "ix_journey_enrolments_live_due",
            "due_at",
            sqlite_where=text(LIVE),
            postgresql_where=text(LIVE),
        ),
        Index("ix_journey_enrolments_customer", "customer_id", "journey_id"),
        # A scheduled trigger's occurrence (a birthday's date, a Monday) enrols once at most.
        Index(
            "uq_journey_enrolments_occurrence",
            "journey_id",
            "customer_id",
            "occurrence",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("journey_versions.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    step_id: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    iteration: Mapped[int] = mapped_column(Integer, default=0)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The log position of the triggering event (None: enrolled through the API); goals and
    # exits apply only to events after it.
    entered_position: Mapped[int | None] = mapped_column(BigInteger)
    step_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    exit_reason: Mapped[str | None] = mapped_column(String(64))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revenue_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which occurrence of a scheduled trigger enrolled the customer (None: an event or the API).
    occurrence: Mapped[str | None] = mapped_column(String(64))


class StepRun(Base):
    """One step performed for one enrolment: the idempotency ledger, history and funnel."""

    __tablename__ = "journey_step_runs"
    __table_args__ = (
        UniqueConstraint("version_id", "step_id", "enrolment_id", "iteration"),
        Index("ix_journey_step_runs_enrolment", "enrolment_id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("journey_enrolments.id", ondelete="CASCADE")
    )
    version_id: Mapped[int] = mapped_column(BigInteger)
    step_id: Mapped[str] = mapped_column(String(64))
    iteration: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict | None] = mapped_column(JSONType)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookCall(Base):
    """A webhook step's signed POST: queued in the step's transaction, sent by a job."""

    __tablename__ = "journey_webhook_calls"
    __table_args__ = (Index("ix_journey_webhook_calls_state", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    journey_id: Mapped[int] = mapped_column(BigInteger)
    enrolment_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSONType)
    # pending -> succeeded | failed | uncertain (the worker stopped mid-POST: never re-sent)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TeamNotification(Base):
    """A notify step's rendered line for the team (the dashboard lists them)."""

    __tablename__ = "journey_notifications"
    __table_args__ = (Index("ix_journey_notifications_created", "created_at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    journey_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[str] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
