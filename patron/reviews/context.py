"""Message template context of reviews: `review_requests`, the products awaiting a review.

Contributed to `messages.context`: each item has `sku`, `name` and `url`, a signed link to the
hosted review form (no login).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from patron.config import load_settings
from patron.messages.config import from_env
from patron.reviews import links, service


def message_context(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """Each customer's open review requests with their links."""
    ids = list(customer_ids)
    if not ids:
        return {}
    found = service.open_requests(session=session, customer_ids=ids)
    if not found:
        return {c: {"review_requests": []} for c in ids}
    secret = load_settings().secret_key
    public = from_env(secret).public_url
    now = datetime.now(UTC)
    return {
        c: {
            "review_requests": [
                {
                    "sku": sku,
                    "name": name,
                    "url": f"{public}/r/{links.token(secret, customer_id=c, sku=sku, now=now)}",
                }
                for sku, name in found.get(c, [])
            ]
        }
        for c in ids
    }


def sample_context() -> dict:
    """The same names for a made-up customer."""
    return {
        "review_requests": [
            {"sku": "SKU-1", "name": "A product", "url": "https://example.invalid/r/sample"}
        ]
    }


message_context.sample = sample_context
