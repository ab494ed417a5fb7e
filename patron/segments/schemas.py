"""Request and response bodies of the segments API (Pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from patron.web.pagination import Page

RULES_HELP = (
    'Rule tree: a group `{"type": "and"|"or"|"not", "children": [...]}` '
    'or a condition such as `{"type": "purchase", "field": "order_count", '
    '"op": "gte", "value": 3}`; GET /api/segments/catalogue lists them all.'
)


class _In(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class SegmentCreate(_In):
    """A new segment."""

    name: str = Field(..., min_length=1, max_length=255)
    description: str = Field("", max_length=2000)
    rules: dict[str, Any] = Field(..., description=RULES_HELP)


class SegmentUpdate(_In):
    """Fields of a segment to change; omitted ones are kept."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    rules: dict[str, Any] | None = Field(None, description=RULES_HELP)


class RulesIn(_In):
    """Rules to count or preview without saving them."""

    rules: dict[str, Any] = Field(..., description=RULES_HELP)
    limit: int = Field(20, ge=1, le=100, description="Customers to preview.")


class SegmentRead(BaseModel):
    """A saved segment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    rules: dict[str, Any]
    builtin_key: str | None
    member_count: int
    refreshed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CountRead(BaseModel):
    """How many customers match."""

    count: int


class PreviewCustomer(BaseModel):
    """A matching customer and the rules they meet."""

    id: int
    external_id: str
    email: str | None
    name: str
    reasons: list[str]


class PreviewRead(BaseModel):
    """The live count and the first matching customers."""

    count: int
    customers: list[PreviewCustomer]


class MemberRead(BaseModel):
    """A stored member of a segment."""

    id: int
    external_id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    entered_at: datetime


class MemberPage(Page[MemberRead]):
    """A page of members; pass `next_cursor` as `cursor` for the next (null at the end)."""


class ChangeRead(BaseModel):
    """A customer entering or leaving a segment."""

    id: int
    customer_id: int
    change: str
    changed_at: datetime


class ChangePage(BaseModel):
    """One page of changes; pass `next_cursor` as `cursor` for the next (null at the end)."""

    items: list[ChangeRead]
    next_cursor: str | None


class RefreshRead(BaseModel):
    """The outcome of recomputing a segment's members."""

    id: int
    name: str
    entered: int
    exited: int
    members: int
