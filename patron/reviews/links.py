"""Signed review links (itsdangerous): a customer and a product, checked against `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "patron.reviews.write"
MAX_AGE_DAYS = 180


class BadLink(Exception):
    """A review link that was tampered with, is malformed or has expired."""


def token(secret: str, *, customer_id: int, sku: str, now: datetime) -> str:
    """The token of a customer's link to review one product."""
    payload = {"c": customer_id, "k": sku, "t": int(now.timestamp())}
    return URLSafeSerializer(secret, salt=SALT).dumps(payload)


def read(secret: str, value: str, *, now: datetime) -> tuple[int, str]:
    """(customer id, sku) of a valid token; BadLink otherwise."""
    try:
        payload = URLSafeSerializer(secret, salt=SALT).loads(value)
    except BadSignature as exc:
        raise BadLink("the link is damaged or incomplete") from exc
    c, k, t = (payload.get(x) for x in "ckt") if isinstance(payload, dict) else (None,) * 3
    if not isinstance(c, int) or not isinstance(k, str) or not isinstance(t, int):
        raise BadLink("the link is malformed")
    if datetime.fromtimestamp(t, tz=now.tzinfo) < now - timedelta(days=MAX_AGE_DAYS):
        raise BadLink("the link has expired")
    return c, k
