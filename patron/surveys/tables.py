"""Tables of surveys: surveys, requests, responses, and when each customer was last asked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from patron.db import Base, JSONType, UTCDateTime

ID = BigInteger().with_variant(Integer, "sqlite")
STATES = ("draft", "active", "closed")


class Survey(Base):
    """A survey: its questions (the first is scored) and the email template that asks it."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    questions: Mapped[list] = mapped_column(JSONType)
    template_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyRequest(Base):
    """One ask of a survey to a customer (an email), under the sender's idempotency key."""

    __tablename__ = "survey_requests"
    __table_args__ = (Index("ix_survey_requests_customer", "customer_id", "survey_id", "id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyResponse(Base):
    """A customer's answers to a survey; `key` names the slot, so a second answer updates it."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_survey", "survey_id", "answered_at"),
        Index("ix_survey_responses_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    question_type: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    nps_category: Mapped[str | None] = mapped_column(String(16))
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    revisions: Mapped[int] = mapped_column(Integer, default=1)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyContact(Base):
    """When a customer was last asked any survey: the recontact limit reads and moves it."""

    __tablename__ = "survey_contacts"

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
