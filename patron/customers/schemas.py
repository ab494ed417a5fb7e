"""Request and response bodies of the customer data REST API (Pydantic v2)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from patron.customers.rules import LineInput, OrderInput
from patron.errors import InvalidInput
from patron.web.pagination import Page

Channel = Literal["email", "sms", "push"]
ConsentStatus = Literal["granted", "denied", "unsubscribed", "unknown", "pending"]
OrderStatus = Literal["placed", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded"]
Cents = StrictInt
MAX_CENTS = 10**15  # a billion billion-dollar orders would still fit in a signed 64-bit column


class _In(BaseModel):
    """Base of request bodies: unknown fields are refused rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    """Base of response bodies: built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class ConsentIn(_In):
    """A consent status on one channel and where it came from."""

    status: ConsentStatus
    source: str = Field(
        "api",
        min_length=1,
        max_length=64,
        description="Where the consent was given, e.g. `checkout`.",
    )


class ConsentRead(_Out):
    """A recorded consent: status, when it last changed and from which source."""

    status: ConsentStatus
    updated_at: datetime
    source: str


class _CustomerFields(_In):
    """Profile fields shared by create and update; omitted fields are left unchanged."""

    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=64)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    birthday: date | None = None
    locale: str | None = Field(None, max_length=35, examples=["en-US"])
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Paris"])
    attributes: dict[str, Any] | None = Field(
        None, description="Custom attributes, merged into the stored ones."
    )
    consent: dict[Channel, ConsentIn] | None = Field(
        None, examples=[{"email": {"status": "granted", "source": "signup_form"}}]
    )

    def profile(self) -> dict:
        """The profile fields that were sent, as the service expects them."""
        return self.model_dump(exclude_unset=True, exclude={"consent", "external_id"})

    def consents(self) -> dict[str, tuple[str, str]]:
        """The consents that were sent, as channel -> (status, source)."""
        return {ch: (c.status, c.source) for ch, c in (self.consent or {}).items()}


class CustomerCreate(_CustomerFields):
    """A new customer; `external_id` is your system's id and must be unique."""

    external_id: str = Field(min_length=1, max_length=255)


class CustomerUpdate(_CustomerFields):
    """Fields to change on a customer; `null` clears a field."""


class CustomerStatsRead(_Out):
    """Aggregates kept at write time: counted orders exclude cancelled and refunded ones."""

    order_count: int = 0
    purchase_days: int = 0
    total_spent_cents: int = 0
    first_day_cents: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    last_event_at: datetime | None = None


class CustomerRead(_Out):
    """A customer's profile, consent per channel and aggregates."""

    id: int
    external_id: str
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    birthday: date | None
    locale: str | None
    time_zone: str | None
    attributes: dict[str, Any]
    consent: dict[str, ConsentRead]
    stats: CustomerStatsRead
    created_at: datetime
    updated_at: datetime


class CustomerPage(Page[CustomerRead]):
    """One page of customers; pass `next_cursor` as `cursor` for the next (null at the end)."""


class ProductCreate(_In):
    """Body of `PUT /api/products/{sku}`: creates the product or replaces its fields."""

    name: str = Field(min_length=1, max_length=255)
    category: str | None = Field(None, max_length=255)
    price_cents: Cents = Field(ge=0, le=MAX_CENTS)
    currency: str = Field("USD", pattern=r"^[A-Za-z]{3}$")


class ProductRead(_Out):
    """A catalogue product."""

    id: int
    sku: str
    name: str
    category: str | None
    price_cents: int
    currency: str
    created_at: datetime
    updated_at: datetime


class ProductPage(Page[ProductRead]):
    """One page of products; pass `next_cursor` as `cursor` for the next (null at the end)."""


class OrderLineCreate(_In):
    """One line of a new order; unit price in minor units."""

    sku: str | None = Field(None, min_length=1, max_length=128)
    name: str | None = Field(None, max_length=255)
    category: str | None = Field(None, max_length=255)
    quantity: Cents = Field(1, gt=0, le=1_000_000)
    unit_price_cents: Cents = Field(0, ge=0, le=MAX_CENTS)


class OrderCreate(_In):
    """A new order; `total_cents` defaults to the sum of the lines less the discount."""

    external_id: str = Field(min_length=1, max_length=255)
    customer_external_id: str = Field(min_length=1, max_length=255)
    placed_at: AwareDatetime = Field(description="ISO-8601 with a time zone.")
    total_cents: Cents | None = Field(None, ge=0, le=MAX_CENTS)
    currency: str = Field("USD", pattern=r"^[A-Za-z]{3}$")
    status: OrderStatus = "placed"
    discount_cents: Cents = Field(0, ge=0, le=MAX_CENTS)
    coupon_code: str | None = Field(None, max_length=128)
    lines: list[OrderLineCreate] = Field(default_factory=list, max_length=1000)
    create_customer: bool = Field(
        False,
        description="Create the customer when the external id is unknown "
        "(otherwise an unknown customer is refused with 422).",
    )

    def to_input(self) -> OrderInput:
        """The service's order input; the total defaults to the lines' sum less the discount."""
        lines = tuple(LineInput(**line.model_dump()) for line in self.lines)
        total = self.total_cents
        if total is None:
            if not lines:
                raise InvalidInput("total_cents is required when the order has no lines")
            total = max(sum(line.total_cents for line in lines) - self.discount_cents, 0)
        return OrderInput(
            external_id=self.external_id,
            customer_external_id=self.customer_external_id,
            placed_at=self.placed_at.astimezone(UTC),
            total_cents=total,
            currency=self.currency.upper(),
            status=self.status,
            discount_cents=self.discount_cents,
            coupon_code=self.coupon_code,
            source="api",
            lines=lines,
        )


class OrderLineRead(_Out):
    """One line of an order."""

    sku: str | None
    name: str | None
    category: str | None
    quantity: int
    unit_price_cents: int
    total_cents: int


class OrderRead(_Out):
    """An order with its lines; money in minor units of `currency`."""

    id: int
    external_id: str
    customer_id: int
    placed_at: datetime
    status: str
    currency: str
    total_cents: int
    discount_cents: int
    refunded_cents: int
    coupon_code: str | None
    source: str
    lines: list[OrderLineRead]
    created_at: datetime
    updated_at: datetime


class OrderPage(Page[OrderRead]):
    """One page of orders; pass `next_cursor` as `cursor` for the next (null at the end)."""


class RefundCreate(_In):
    """A refund: a further amount in minor units, or the whole remaining total when omitted."""

    amount_cents: Cents | None = Field(None, gt=0, le=MAX_CENTS)
