"""Plain factory functions for test data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patron.customers import service
from patron.customers.rules import LineInput, OrderInput

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def at(days: float = 0.0) -> datetime:
    """A fixed aware UTC time shifted by days."""
    return T0 + timedelta(days=days)


def customer(session, external_id: str = "c1", **profile):
    """Create or update a customer."""
    return service.upsert_customer(
        session=session, external_id=external_id, profile=profile, now=T0
    )


def order(
    session,
    external_id: str,
    customer_id: str = "c1",
    *,
    days: float = 0.0,
    total: int = 1000,
    status: str = "placed",
    lines=(),
    **fields,
):
    """Record an order of `total` cents placed `days` after T0."""
    data = OrderInput(
        external_id=external_id,
        customer_external_id=customer_id,
        placed_at=at(days),
        total_cents=total,
        status=status,
        lines=tuple(LineInput(**line) for line in lines),
        **fields,
    )
    return service.record_order(session=session, order=data, now=T0)[0]


def tampered(token: str) -> str:
    """The token with one character of its signature changed (never the same token again).

    Replacing the last characters is not enough: the last base64 character carries padding
    bits, so a changed final character can decode to the same signature.
    """
    at = len(token) - 6
    swapped = "B" if token[at] == "A" else "A"
    return token[:at] + swapped + token[at + 1 :]
