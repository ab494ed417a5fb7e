"""Dashboard pages of loyalty (filled in below)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)


def panel_context(*, session, customer_id: int):
    """The member statement on the customer page."""
    return None
