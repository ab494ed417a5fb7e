"""Use cases of the suppression list: list, add by hand, and the explicit clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.errors import InvalidInput, NotFound
from patron.messages import outbox
from patron.messages.tables import Suppression


def _key(address: str) -> str:
    """The stored form of an address, checked."""
    key = (address or "").strip().lower()
    if "@" not in key or len(key) > 320:
        raise InvalidInput(f"not an email address: {address!r}")
    return key


def list_suppressions(
    *, session: Session, after: str | None, limit: int, search: str | None = None
) -> list[Suppression]:
    """Suppressed addresses in address order, after a cursor, optionally containing text."""
    query = select(Suppression).order_by(Suppression.address).limit(limit)
    if after:
        query = query.where(Suppression.address > after)
    if search:
        query = query.where(Suppression.address.contains(search.strip().lower(), autoescape=True))
    return list(session.scalars(query))


def add_manual(*, session: Session, address: str, detail: str | None, now: datetime) -> bool:
    """Suppress an address by hand; False when it already was."""
    return outbox.suppress(
        session, address=_key(address), reason="manual", detail=detail or None, now=now
    )


def clear(*, session: Session, address: str) -> Suppression:
    """Remove an address from the list (the only way off it); NotFound when it is not there."""
    row = session.get(Suppression, _key(address))
    if row is None:
        raise NotFound(f"{address} is not on the suppression list")
    session.delete(row)
    session.flush()
    return row
