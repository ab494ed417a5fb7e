"""One cursor pagination for every list, API and dashboard.

A cursor is opaque to clients: URL-safe base64 of the JSON pair ``[sort key, id]`` of the last
row of a page. Lists are ordered by (sort key, id), id breaking ties, so a page never repeats or
skips a row when others are added; id-ordered lists use the id as their sort key too.

Adopting it in an endpoint (API or page)::

    from patron.web import pagination

    @router.get("/things", response_model=pagination.Page[ThingRead])
    def list_things(limit: int = pagination.LIMIT, cursor: str | None = pagination.CURSOR, ...):
        after = pagination.decode(cursor)            # None, or Position; bad cursor -> 422
        rows = service.things(after_id=after.id if after else None, limit=limit + 1)
        return pagination.page(rows, limit, key=lambda t: (t.id, t.id))

With another order, e.g. newest first: ``.where(pagination.beyond(after, Thing.created_at,
Thing.id, descending=True))`` and ``key=lambda t: (t.created_at, t.id)``. A ``Page`` is
``{"items": [...], "next_cursor": "..." | null}``: the client passes ``next_cursor`` back as
``cursor`` until it is null.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import and_, or_, true

from patron.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1-500).")
CURSOR = Query(None, max_length=512, description="`next_cursor` of the previous page.")
_BAD = "cursor is not valid: pass the next_cursor of a previous page, or no cursor"


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (null at the end)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Position:
    """Where a page ended: the sort key and id of its last row."""

    key: Any
    id: int


def clamp_limit(limit: int | None, default: int = DEFAULT_LIMIT) -> int:
    """A page size within 1..500 (for callers that clamp rather than refuse)."""
    return default if limit is None else max(1, min(int(limit), MAX_LIMIT))


def _plain(value: Any) -> Any:
    """A sort key as JSON: timestamps as ISO text, the rest as is."""
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _unplain(value: Any) -> Any:
    """The sort key a JSON value stands for, or InvalidInput."""
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        try:
            return datetime.fromisoformat(value["t"])
        except ValueError:
            raise InvalidInput(_BAD)
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    raise InvalidInput(_BAD)


def encode(key: Any, id_: int) -> str:
    """The cursor of the page after the row (key, id)."""
    raw = json.dumps([_plain(key), id_], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> Position | None:
    """The position a cursor stands for (None for the first page); 422 when it is not ours."""
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        pair = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(_BAD)
    if not isinstance(pair, list) or len(pair) != 2:
        raise InvalidInput(_BAD)
    key, id_ = pair
    if isinstance(id_, bool) or not isinstance(id_, int):
        raise InvalidInput(_BAD)
    return Position(_unplain(key), id_)


def page(rows: Sequence[T], limit: int, *, key: Callable[[T], tuple[Any, int]]) -> dict[str, Any]:
    """Split limit + 1 fetched rows into a page and the cursor after it (None at the end)."""
    items = list(rows[:limit])
    more = len(rows) > limit and items
    return {"items": items, "next_cursor": encode(*key(items[-1])) if more else None}


def beyond(position: Position | None, key_column, id_column, *, descending: bool = False):
    """SQL condition: rows after the position in (key, id) order (true for the first page)."""
    if position is None:
        return true()
    if descending:
        return or_(
            key_column < position.key, and_(key_column == position.key, id_column < position.id)
        )
    return or_(key_column > position.key, and_(key_column == position.key, id_column > position.id))
