"""Links inside messages, signed with the secret key: one-click unsubscribe (clicks, later)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from patron.messages import rules

UNSUBSCRIBE = "unsubscribe"


def unsubscribe_token(secret: str, *, customer_id: int, outbox_id: int | None) -> str:
    """The token of a customer's unsubscribe link (it never expires: old mail must still work)."""
    payload = {"c": customer_id}
    if outbox_id is not None:
        payload["m"] = outbox_id
    return rules.sign(secret, UNSUBSCRIBE, payload)


def unsubscribe_url(
    public_url: str, secret: str, *, customer_id: int, outbox_id: int | None
) -> str:
    """The https link of List-Unsubscribe and of the footer: GET shows a page, POST unsubscribes."""
    token = unsubscribe_token(secret, customer_id=customer_id, outbox_id=outbox_id)
    return f"{public_url.rstrip('/')}/u/{quote(token)}"


def unsubscribe_mailto(address: str, *, customer_id: int) -> str:
    """The mailto: alternative of List-Unsubscribe (the subject names the customer)."""
    return f"mailto:{address}?subject=unsubscribe-{customer_id}"


def read_unsubscribe(secret: str, token: str, *, now: datetime) -> dict:
    """The payload of an unsubscribe token; rules.BadToken when tampered with."""
    payload = rules.verify(secret, UNSUBSCRIBE, token, now=now)
    if not isinstance(payload.get("c"), int):
        raise rules.BadToken("the link is malformed")
    return payload
