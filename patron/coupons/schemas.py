"""Request and response bodies of the coupons API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from patron.coupons import rules


class CustomerRef(BaseModel):
    """A customer by Patron id or by the shop's external id."""

    customer_id: int | None = Field(None, ge=1)
    customer: str | None = Field(None, min_length=1, max_length=255, description="External id.")

    @model_validator(mode="after")
    def _one(self):
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give exactly one of customer_id or customer (external id)")
        return self


class LineIn(BaseModel):
    """A cart line."""

    sku: str | None = Field(None, max_length=128)
    category: str | None = Field(None, max_length=255)
    quantity: int = Field(1, ge=1, le=100_000)
    unit_price_cents: int = Field(0, ge=0, le=10**12)


class CartIn(BaseModel):
    """A cart: lines, and optionally its subtotal and shipping."""

    lines: list[LineIn] = Field(default_factory=list, max_length=500)
    subtotal_cents: int | None = Field(None, ge=0, le=10**13)
    shipping_cents: int = Field(0, ge=0, le=10**9)

    def to_rules(self) -> rules.Cart:
        """The cart as the pure rules see it."""
        lines = tuple(rules.Line(**line.model_dump()) for line in self.lines)
        return rules.Cart(lines, self.subtotal_cents, self.shipping_cents)


class ValidateIn(CustomerRef):
    """A code checked against a customer's cart."""

    code: str = Field(min_length=1, max_length=64)
    cart: CartIn = Field(default_factory=CartIn)


class DecisionOut(BaseModel):
    """Whether the code applies, its discount, or the rule that refused it."""

    valid: bool
    discount_cents: int
    rule: str | None
    reason: str


class RedeemIn(ValidateIn):
    """A code used on an order (once per code and order)."""

    order_ref: str = Field(min_length=1, max_length=255, description="The order's external id.")
    discount_cents: int | None = Field(None, ge=0, description="Applied discount, if not ours.")


class RedemptionOut(BaseModel):
    """A recorded redemption."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    customer_id: int
    order_ref: str
    discount_cents: int
    source: str
    redeemed_at: datetime
    created: bool = True


class IssueIn(CustomerRef):
    """A personal code asked for under an idempotency key."""

    campaign_id: int = Field(ge=1)
    key: str = Field(min_length=1, max_length=200)


class CampaignIn(BaseModel):
    """A new campaign."""

    name: str = Field(min_length=1, max_length=255)
    kind: Literal["shared", "unique"]
    code: str | None = Field(None, max_length=64, description="The shared code.")
    discount_type: Literal["percent", "fixed", "free_shipping"]
    percent: int = Field(0, ge=0, le=100)
    amount_cents: int = Field(0, ge=0, le=10**12)
    currency: str = Field("USD", min_length=3, max_length=3)
    min_order_cents: int = Field(0, ge=0, le=10**13)
    skus: list[str] = Field(default_factory=list, max_length=1000)
    categories: list[str] = Field(default_factory=list, max_length=1000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    per_customer_limit: int | None = Field(None, ge=1)
    total_limit: int | None = Field(None, ge=1)
    segment_id: int | None = Field(None, ge=1)
    tier: str | None = Field(None, max_length=64)
    in_templates: bool = False


class CampaignOut(BaseModel):
    """A campaign as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    discount_type: str
    percent: int
    amount_cents: int
    min_order_cents: int
    skus: list[str]
    categories: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    per_customer_limit: int | None
    total_limit: int | None
    segment_id: int | None
    tier: str | None
    in_templates: bool
    active: bool
    redeemed_count: int


class BatchIn(BaseModel):
    """A batch of unique codes to add."""

    count: int = Field(ge=1, le=rules.MAX_BATCH)
    length: int = Field(rules.CODE_LENGTH, ge=6, le=20)
    prefix: str = Field("", max_length=12)


class OfferIn(BaseModel):
    """A new exclusive offer or early access."""

    name: str = Field(min_length=1, max_length=255)
    kind: Literal["exclusive", "early_access"]
    description: str = Field("", max_length=5000)
    url: str = Field("", max_length=2048)
    segment_id: int | None = Field(None, ge=1)
    tier: str | None = Field(None, max_length=64)
    campaign_id: int | None = Field(None, ge=1)
    starts_at: datetime
    ends_at: datetime
