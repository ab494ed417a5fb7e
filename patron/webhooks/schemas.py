"""Request and response bodies of the webhooks API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EndpointCreate(BaseModel):
    """A new endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="http(s) URL that receives the POSTs.")
    description: str = Field("", max_length=500)
    event_types: list[str] = Field(description="Event types to receive, e.g. order.completed.")
    enabled: bool = True


class EndpointUpdate(BaseModel):
    """Changes to an endpoint; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2048)
    description: str | None = Field(None, max_length=500)
    event_types: list[str] | None = None
    enabled: bool | None = Field(None, description="true re-enables and clears the failures.")


class EndpointRead(BaseModel):
    """An endpoint as listed (its secret is shown only at creation and rotation)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointRead):
    """An endpoint just created or rotated, with its signing secret (shown this once)."""

    secret: str


class DeliveryRead(BaseModel):
    """One event for one endpoint and where its delivery stands."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    delivery_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    endpoint_id: int
    event_id: int | None
    event_type: str
    payload: dict
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first."""

    items: list[DeliveryRead]
    next_cursor: str | None


class AttemptRead(BaseModel):
    """One POST of a delivery."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_snippet: str | None


class EventTypes(BaseModel):
    """The event types an endpoint may subscribe to."""

    event_types: list[str]
