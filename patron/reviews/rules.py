"""Pure rules of reviews: checks of a review, the average, and the schema.org JSON-LD snippet."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

MAX_TITLE = 200
MAX_BODY = 5000
MAX_AUTHOR = 100


class ReviewError(ValueError):
    """A review that is not valid; the message says why."""


def check_review(rating, title: str | None, body: str | None) -> tuple[int, str, str]:
    """(rating 1-5, title, text) checked and trimmed."""
    if isinstance(rating, str) and rating.strip().isdigit():
        rating = int(rating)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ReviewError("rating: a whole number from 1 to 5 is required")
    title, body = (title or "").strip(), (body or "").strip()
    if len(title) > MAX_TITLE:
        raise ReviewError(f"title: at most {MAX_TITLE} characters")
    if len(body) > MAX_BODY:
        raise ReviewError(f"text: at most {MAX_BODY} characters")
    return rating, title, body


def due_at(placed_at: datetime, now: datetime, delay_days: int) -> datetime:
    """When to ask for a review: the delay after the order (never before now)."""
    return max(placed_at + timedelta(days=max(delay_days, 0)), now)


def average(total: int, count: int) -> float | None:
    """The average rating, one decimal (None without reviews)."""
    return None if count == 0 else round(total / count, 1)


def author_name(first_name: str | None, last_name: str | None) -> str:
    """What the shop shows as the author: first name and last initial."""
    first = (first_name or "").strip()
    initial = (last_name or "").strip()[:1]
    name = f"{first} {initial}." if first and initial else first or "A customer"
    return name[:MAX_AUTHOR]


def aggregate_jsonld(*, sku: str, name: str, count: int, average_rating: float | None) -> str:
    """A `<script type="application/ld+json">` with the product's AggregateRating.

    JSON is escaped for an HTML script element: `<`, `>` and `&` become \\u escapes, so no
    product name can close the script or open a tag.
    """
    data: dict = {"@context": "https://schema.org", "@type": "Product", "sku": sku, "name": name}
    if count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": average_rating,
            "reviewCount": count,
            "bestRating": 5,
            "worstRating": 1,
        }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(char, escaped)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f'<script type="application/ld+json">{text}</script>'
