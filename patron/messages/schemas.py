"""Request and response bodies of the messages API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from patron.web.pagination import Page


class VariantBody(BaseModel):
    """A template's content in one locale ("" is the default)."""

    model_config = ConfigDict(from_attributes=True)

    locale: str = Field("", max_length=35)
    format: Literal["html", "mjml"] = "html"
    subject: str = Field("", max_length=2000)
    preheader: str = Field("", max_length=2000)
    body: str = Field(..., max_length=500_000)
    text: str | None = Field(None, max_length=500_000)


class TemplateBody(BaseModel):
    """A template to create or replace; validated by rendering it for a customer."""

    name: str = Field(..., min_length=1, max_length=255)
    channel: Literal["email", "webhook"] = "email"
    kind: Literal["marketing", "transactional"] = "marketing"
    topic: str | None = Field(None, max_length=64)
    layout_id: int | None = None
    variants: list[VariantBody] = Field(..., min_length=1, max_length=50)
    validate_with_customer_id: int | None = Field(
        None, description="Render with this customer's context (default: the first customer)."
    )


class TemplateRead(BaseModel):
    """A template with its variants."""

    id: int
    name: str
    channel: str
    kind: str
    topic: str | None
    layout_id: int | None
    created_at: datetime
    updated_at: datetime
    variants: list[VariantBody]


class SendBody(BaseModel):
    """Send a template to one customer now (the transactional lane)."""

    template_id: int
    customer_id: int
    data: dict[str, Any] = Field(default_factory=dict, description="Extra variables: `data.x`.")


class MessageRead(BaseModel):
    """One message of the outbox."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    template_id: int
    channel: str
    kind: str
    source: str
    source_id: int
    state: str
    reason: str | None
    attempts: int
    address: str | None
    subject: str | None
    message_id: str | None
    last_error: str | None
    queued_at: datetime
    send_after: datetime
    sent_at: datetime | None


MessagePage = Page[MessageRead]


class SuppressionBody(BaseModel):
    """An address to suppress by hand."""

    address: str = Field(min_length=3, max_length=320)
    detail: str | None = Field(None, max_length=1000)
