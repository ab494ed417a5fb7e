"""Plain facts about one customer, for evaluating a rule tree in Python (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LineFact:
    """One order line: what was bought."""

    sku: str | None
    category: str | None
    product_id: int | None


@dataclass(frozen=True)
class OrderFact:
    """One order of the customer."""

    status: str
    placed_at: datetime
    coupon_code: str | None = None
    lines: tuple[LineFact, ...] = ()


@dataclass(frozen=True)
class EventFact:
    """One event the customer performed."""

    name: str | None
    occurred_at: datetime
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """Everything a rule can look at for one customer; missing stats or scores are empty."""

    customer_id: int
    profile: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    orders: tuple[OrderFact, ...] = ()
    events: tuple[EventFact, ...] = ()
    # Values of contributed condition types, by the contributing type's name.
    extra: dict[str, Any] = field(default_factory=dict)
