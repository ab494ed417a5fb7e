"""API bodies of recommendations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RecommendedRead(BaseModel):
    """One recommended product, with its tagged shop link."""

    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    category: str | None
    price_cents: int
    currency: str
    url: str


class RecommendationList(BaseModel):
    """A served list; `fallback` is true when it is the shop's popular items."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    fallback: bool
    version_id: int | None
    items: list[RecommendedRead]


class FlagsUpdate(BaseModel):
    """Change a product's recommendation flags."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    replenishable: bool | None = None


class FlagsRead(BaseModel):
    """A product's recommendation flags."""

    model_config = ConfigDict(from_attributes=True)

    product_id: int
    active: bool
    replenishable: bool


class VersionRead(BaseModel):
    """One training run."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    state: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    stats: dict


class EvaluationRead(BaseModel):
    """The latest offline evaluation: one row per kind."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    cutoff: datetime
    users: int
    rows: list[dict]


class ReportRowRead(BaseModel):
    """Click-through and attributed revenue of one kind."""

    model_config = ConfigDict(from_attributes=True)

    kind: str
    shown: int
    clicks: int
    click_through: float | None
    orders: int
    revenue_cents: int
