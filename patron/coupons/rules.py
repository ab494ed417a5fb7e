"""Pure rules of coupons: code alphabet and generation, campaign terms, validating a cart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

# No 0/O, 1/I/L: a code read aloud or off a receipt cannot be mistyped into another one.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
KINDS = ("shared", "unique")
DISCOUNT_TYPES = ("percent", "fixed", "free_shipping")
CODE_LENGTH = 10
MAX_BATCH = 1_000_000
_ACCEPT = 256 - 256 % len(ALPHABET)  # bytes at or above this would bias the first letters


class TermsError(ValueError):
    """A campaign's terms break a rule; `field` names the offending field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def bytes_needed(count: int, length: int) -> int:
    """Random bytes that almost surely yield `count` codes after rejection sampling."""
    return int(count * length * 256 / _ACCEPT * 1.05) + 64


def codes_from_bytes(raw: bytes, count: int, length: int, prefix: str = "") -> list[str]:
    """Up to `count` codes of `length` letters drawn uniformly from ALPHABET (vectorised)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    kept = data[data < _ACCEPT] % len(ALPHABET)
    rows = min(count, kept.size // length)
    letters = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[kept[: rows * length]]
    block = letters.reshape(rows, length).view(f"S{length}").ravel()
    return [prefix + b.decode() for b in block.tolist()]


def normalise_code(text: str) -> str:
    """A code as typed by a shopper: trimmed and upper-cased."""
    return text.strip().upper()


def check_prefix(prefix: str) -> str:
    """A batch prefix: up to 12 letters, digits or dashes, upper-cased."""
    value = normalise_code(prefix)
    if len(value) > 12 or any(not (c.isalnum() or c == "-") for c in value):
        raise TermsError("prefix", "up to 12 letters, digits or dashes")
    return value


@dataclass(frozen=True)
class Terms:
    """What a campaign grants and to whom."""

    discount_type: str
    percent: int = 0
    amount_cents: int = 0
    min_order_cents: int = 0
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    per_customer_limit: int | None = None
    total_limit: int | None = None
    segment_id: int | None = None
    tier: str | None = None
    active: bool = True


def check_terms(terms: Terms) -> Terms:
    """The terms if they hold together, else TermsError naming the field."""
    if terms.discount_type not in DISCOUNT_TYPES:
        raise TermsError("discount_type", f"one of {', '.join(DISCOUNT_TYPES)}")
    if terms.discount_type == "percent" and not 1 <= terms.percent <= 100:
        raise TermsError("percent", "a percent coupon takes 1 to 100")
    if terms.discount_type == "fixed" and terms.amount_cents <= 0:
        raise TermsError("amount_cents", "a fixed coupon takes a positive amount")
    if terms.min_order_cents < 0:
        raise TermsError("min_order_cents", "not negative")
    for name in ("per_customer_limit", "total_limit"):
        value = getattr(terms, name)
        if value is not None and value < 1:
            raise TermsError(name, "at least 1 (or none for no limit)")
    if terms.starts_at and terms.ends_at and terms.ends_at <= terms.starts_at:
        raise TermsError("ends_at", "must be after starts_at")
    return terms


@dataclass(frozen=True)
class Line:
    """A cart line."""

    sku: str | None = None
    category: str | None = None
    quantity: int = 1
    unit_price_cents: int = 0

    @property
    def total_cents(self) -> int:
        """Quantity times unit price."""
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Cart:
    """What the shopper is about to buy; subtotal defaults to the lines' sum."""

    lines: tuple[Line, ...] = ()
    subtotal_cents: int | None = None
    shipping_cents: int = 0

    @property
    def subtotal(self) -> int:
        """The given subtotal, else the sum of the lines."""
        if self.subtotal_cents is not None:
            return self.subtotal_cents
        return sum(line.total_cents for line in self.lines)


@dataclass(frozen=True)
class Facts:
    """What the store knows about this code and customer when a cart is checked."""

    now: datetime
    customer_id: int
    code_owner: int | None = None
    unique_code: bool = False
    code_redeemed: int = 0
    total_redeemed: int = 0
    customer_redeemed: int = 0
    in_segment: bool = True
    tier: str | None = None


@dataclass(frozen=True)
class Decision:
    """The answer for a cart: valid with a discount, or the rule that refused it."""

    valid: bool
    discount_cents: int = 0
    rule: str | None = None
    reason: str = "ok"
    details: dict = field(default_factory=dict)


def _refuse(rule: str, reason: str) -> Decision:
    """A refusal naming its rule."""
    return Decision(False, 0, rule, f"{rule}: {reason}")


def _gate(terms: Terms, facts: Facts) -> Decision | None:
    """The first rule of who and when that refuses, or None."""
    if not terms.active:
        return _refuse("inactive", "this coupon is switched off")
    if terms.starts_at and facts.now < terms.starts_at:
        return _refuse("not_started", f"valid from {terms.starts_at.isoformat()}")
    if terms.ends_at and facts.now >= terms.ends_at:
        return _refuse("expired", f"expired at {terms.ends_at.isoformat()}")
    if facts.code_owner is not None and facts.code_owner != facts.customer_id:
        return _refuse("foreign_code", "this code was issued to another customer")
    if facts.unique_code and facts.code_redeemed >= 1:
        return _refuse("code_used", "this single-use code was already redeemed")
    if terms.total_limit is not None and facts.total_redeemed >= terms.total_limit:
        return _refuse("total_limit", f"all {terms.total_limit} redemptions are used")
    if terms.per_customer_limit is not None and facts.customer_redeemed >= terms.per_customer_limit:
        return _refuse("per_customer_limit", f"at most {terms.per_customer_limit} per customer")
    if not facts.in_segment:
        return _refuse("segment", "this coupon is for members of a segment")
    if terms.tier and facts.tier != terms.tier:
        return _refuse("tier", f"this coupon is for the {terms.tier} tier")
    return None


def eligible_cents(terms: Terms, cart: Cart) -> int:
    """The part of the cart the coupon applies to (all of it without product limits)."""
    if not terms.skus and not terms.categories:
        return cart.subtotal
    skus, categories = set(terms.skus), set(terms.categories)
    return sum(
        line.total_cents for line in cart.lines if line.sku in skus or line.category in categories
    )


def discount(terms: Terms, cart: Cart) -> int:
    """The discount in minor units: percent rounded down, fixed capped at the eligible part."""
    if terms.discount_type == "free_shipping":
        return max(cart.shipping_cents, 0)
    base = eligible_cents(terms, cart)
    if terms.discount_type == "percent":
        return base * terms.percent // 100
    return min(terms.amount_cents, base)


def evaluate(terms: Terms, facts: Facts, cart: Cart) -> Decision:
    """Whether the coupon applies to this cart for this customer now, and its discount."""
    refused = _gate(terms, facts)
    if refused is not None:
        return refused
    if cart.subtotal < terms.min_order_cents:
        return _refuse("minimum_order", f"the order must reach {terms.min_order_cents} cents")
    if terms.discount_type != "free_shipping" and eligible_cents(terms, cart) <= 0:
        return _refuse("no_eligible_items", "no item of the cart is covered by this coupon")
    return Decision(True, discount(terms, cart))


def visible(
    *, now: datetime, starts_at: datetime, ends_at: datetime, in_segment: bool, tier_ok: bool
) -> bool:
    """Whether an exclusive offer shows to a customer now."""
    return starts_at <= now < ends_at and in_segment and tier_ok
