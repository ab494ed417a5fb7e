"""Request and response bodies of the gatherings API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class GatheringCreate(BaseModel):
    """A new event; naive times are read in `timezone`."""

    title: str = Field(max_length=200)
    description: str = Field("", max_length=20000)
    starts_at: datetime
    ends_at: datetime
    timezone: str = Field("UTC", max_length=64)
    online_url: str | None = Field(None, max_length=2048)
    place: str | None = Field(None, max_length=500)
    capacity: int | None = Field(None, ge=1, le=1_000_000)
    waitlist: bool = True


class GatheringUpdate(BaseModel):
    """Fields to change."""

    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str | None = Field(None, max_length=64)
    online_url: str | None = Field(None, max_length=2048)
    place: str | None = Field(None, max_length=500)
    capacity: int | None = Field(None, ge=1, le=1_000_000)
    waitlist: bool | None = None


class GatheringRead(BaseModel):
    """An event with its seats taken."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    online_url: str | None
    place: str | None
    capacity: int | None
    waitlist: bool
    going: int
    invite_template_id: int | None
    reminder_template_id: int | None


class InviteBody(BaseModel):
    """Whom to invite: a segment's members, or customers by id."""

    segment_id: int | None = None
    customer_ids: list[int] = Field(default_factory=list, max_length=10000)


class RsvpBody(BaseModel):
    """An answer recorded for a guest by the shop (its own RSVP form)."""

    customer_id: int
    answer: str = Field(pattern="^(yes|no|maybe)$")


class InvitationRead(BaseModel):
    """A guest's invitation."""

    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    status: str
    answer: str | None
    invited_at: datetime
    answered_at: datetime | None
    attended_at: datetime | None


class AttendanceBody(BaseModel):
    """Who attended, by customer id, email or external id."""

    customer_ids: list[int] = Field(default_factory=list, max_length=10000)
    emails: list[str] = Field(default_factory=list, max_length=10000)
    external_ids: list[str] = Field(default_factory=list, max_length=10000)
