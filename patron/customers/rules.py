"""Pure rules of customer data: validated inputs, money conversion, order status logic."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from patron.errors import InvalidInput
from patron.money import minor_digits

ORDER_STATUSES = ("placed", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded")
CONSENT_CHANNELS = ("email", "sms", "push")
CONSENT_STATUSES = ("granted", "denied", "unsubscribed", "unknown", "pending")
# Sources whose email grant needs no confirmation under double opt-in: the confirmation itself
# and an import whose rows say the address was confirmed already.
CONFIRMED_SOURCES = frozenset({"double_opt_in", "import_confirmed"})

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTED_EXCLUDED = ("cancelled", "refunded")
# Bounds far above any real order that keep sums inside a 64-bit column.
MAX_MINOR_UNITS = 10**15
MAX_QUANTITY = 1_000_000
PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "birthday", "locale", "time_zone")


def to_minor_units(amount: object, currency: str, *, name: str = "amount") -> int:
    """Convert a decimal amount (e.g. 19.99 USD) to integer minor units (1999), exactly."""
    if isinstance(amount, bool) or amount is None:
        raise InvalidInput(f"{name} must be a number")
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise InvalidInput(f"{name} must be a number, got {amount!r}")
    if not value.is_finite():
        raise InvalidInput(f"{name} must be a finite number")
    if abs(value) >= MAX_MINOR_UNITS:  # before scaling: 1e308 would take a while to quantize
        raise InvalidInput(f"{name} is too large")
    scaled = value.scaleb(minor_digits(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return check_amount(int(scaled), name)


def check_amount(cents: int, name: str) -> int:
    """Refuse an amount in minor units beyond what any order holds."""
    if abs(cents) > MAX_MINOR_UNITS:
        raise InvalidInput(f"{name} is too large (at most {MAX_MINOR_UNITS} minor units)")
    return cents


def check_currency(currency: str) -> str:
    """Return an upper-case ISO 4217 code or refuse it."""
    code = (currency or "").upper()
    if not _CURRENCY.match(code):
        raise InvalidInput(f"currency must be a 3-letter ISO code, got {currency!r}")
    return code


def check_email(email: str | None) -> str | None:
    """Return a normalised email address or refuse a malformed one."""
    if email is None or email == "":
        return None
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInput(f"email is not a valid address: {email!r}")
    return email.lower()


def check_aware(moment: datetime, name: str) -> datetime:
    """Refuse naive datetimes and ones outside the years 1-9999 once in UTC."""
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone")
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{name} is out of range once converted to UTC")
    return moment


def check_consent(channel: str, status: str) -> None:
    """Refuse unknown consent channels or statuses."""
    if channel not in CONSENT_CHANNELS:
        raise InvalidInput(f"consent channel must be one of {', '.join(CONSENT_CHANNELS)}")
    if status not in CONSENT_STATUSES:
        raise InvalidInput(f"consent status must be one of {', '.join(CONSENT_STATUSES)}")


def consent_to_store(
    channel: str, status: str, *, previous: str, source: str, double_opt_in: bool
) -> str:
    """The status to record: with double opt-in, a new email grant from an unconfirmed source
    waits as `pending` until the customer confirms it (pending is not consent)."""
    if (
        double_opt_in
        and channel == "email"
        and status == "granted"
        and previous != "granted"
        and source not in CONFIRMED_SOURCES
    ):
        return "pending"
    return status


def is_counted(status: str) -> bool:
    """Whether an order of this status counts as a purchase in aggregates."""
    return status not in COUNTED_EXCLUDED


@dataclass(frozen=True)
class LineInput:
    """One order line as received."""

    sku: str | None
    quantity: int = 1
    unit_price_cents: int = 0
    name: str | None = None
    category: str | None = None

    @property
    def total_cents(self) -> int:
        """Line total in minor units."""
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class OrderInput:
    """An order as received from the API, tracking or an import."""

    external_id: str
    customer_external_id: str
    placed_at: datetime
    total_cents: int
    currency: str = "USD"
    status: str = "placed"
    discount_cents: int = 0
    refunded_cents: int = 0
    coupon_code: str | None = None
    source: str = "api"
    lines: tuple[LineInput, ...] = field(default_factory=tuple)

    def validated(self) -> OrderInput:
        """Return self after checking every field, or raise InvalidInput."""
        if not self.external_id:
            raise InvalidInput("order id is required")
        if not self.customer_external_id:
            raise InvalidInput("order customer id is required")
        check_aware(self.placed_at, "placed_at")
        check_currency(self.currency)
        if self.status not in ORDER_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(ORDER_STATUSES)}")
        if self.total_cents < 0 or self.discount_cents < 0 or self.refunded_cents < 0:
            raise InvalidInput("total, discount and refund must not be negative")
        if self.refunded_cents > self.total_cents:
            raise InvalidInput("refund is larger than the order total")
        for name in ("total_cents", "discount_cents"):
            check_amount(getattr(self, name), name)
        for line in self.lines:
            if line.quantity <= 0 or line.unit_price_cents < 0:
                raise InvalidInput("order line quantity must be positive and price not negative")
            if line.quantity > MAX_QUANTITY:
                raise InvalidInput(f"order line quantity must be at most {MAX_QUANTITY}")
            check_amount(line.total_cents, "order line total")
        return self


def refund_status(total_cents: int, refunded_cents: int, current: str) -> str:
    """The order status after a refund of refunded_cents in all (a cancelled order stays so)."""
    if refunded_cents <= 0 or current == "cancelled":
        return current
    return "refunded" if refunded_cents >= total_cents else "partially_refunded"


def parse_birthday(value: object) -> date | None:
    """Parse a birthday given as a date or an ISO string."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidInput(f"birthday must be an ISO date (YYYY-MM-DD), got {value!r}")
