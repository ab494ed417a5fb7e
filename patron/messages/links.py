"""Links inside messages, signed with the secret key: one-click unsubscribe, clicks, opens."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from html import unescape
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


# Tracked links: the signed token carries the message and the very URL it redirects to, so a
# click can only go to a link that was in the message (no open redirect, nothing to store).

CLICK = "click"
OPEN = "open"
HONEYPOT_URL = "honeypot"
# Patron's own signed pages: their links are never rewritten into click redirects.
OWN_PAGES = ("/u/", "/p/", "/confirm/")
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'\s]+)\2""", re.IGNORECASE)
# A bare URL in plain text: up to whitespace or a delimiter that closes it in prose or Markdown
# ("<url>", "(url)", "[label](url)"); trailing sentence punctuation is not part of it.
_TEXT_URL = re.compile(r"""https?://[^\s<>"'()\[\]{}]+(?<![.,;:!?])""", re.IGNORECASE)
# Our own public routes (unsubscribe, preferences, clicks, opens) are never wrapped again.
_OWN_ROUTES = ("/u/", "/p/", "/c/", "/o/")


def click_url(public_url: str, secret: str, *, outbox_id: int, url: str) -> str:
    """The redirect link that stands for `url` in message `outbox_id`."""
    token = rules.sign(secret, CLICK, {"m": outbox_id, "u": url})
    return f"{public_url.rstrip('/')}/c/{quote(token)}"


def open_url(public_url: str, secret: str, *, outbox_id: int) -> str:
    """The open pixel of a message."""
    return f"{public_url.rstrip('/')}/o/{quote(rules.sign(secret, OPEN, {'m': outbox_id}))}.gif"


def read_click(secret: str, token: str, *, now: datetime) -> tuple[int, str]:
    """(outbox id, URL) of a click token; rules.BadToken when tampered with."""
    payload = rules.verify(secret, CLICK, token, now=now)
    outbox_id, url = payload.get("m"), payload.get("u")
    if not isinstance(outbox_id, int) or not isinstance(url, str):
        raise rules.BadToken("the link is malformed")
    if url != HONEYPOT_URL and not url.startswith(("https://", "http://")):
        raise rules.BadToken("the link is malformed")
    return outbox_id, url


def read_open(secret: str, token: str, *, now: datetime) -> int:
    """The outbox id of an open-pixel token; rules.BadToken when tampered with."""
    outbox_id = rules.verify(secret, OPEN, token, now=now).get("m")
    if not isinstance(outbox_id, int):
        raise rules.BadToken("the link is malformed")
    return outbox_id


def track(
    html: str,
    public_url: str,
    secret: str,
    *,
    outbox_id: int,
    honeypot: bool,
    pixel: bool,
    keep: Collection[str] = (),
) -> str:
    """HTML whose http(s) links go through click redirects, with a honeypot link and a pixel.

    Links in `keep` (the unsubscribe URL) and Patron's own signed pages (unsubscribe, preference
    centre, double opt-in confirmation) stay as they are. The honeypot is invisible to people,
    so only a machine following every link clicks it.
    """
    own = tuple(f"{public_url.rstrip('/')}{path}" for path in OWN_PAGES)

    def rewrite(match: re.Match) -> str:
        url = unescape(match.group(3))
        if url in keep or url.startswith(own):
            return match.group(0)
        tracked = click_url(public_url, secret, outbox_id=outbox_id, url=url)
        return f"{match.group(1)}{match.group(2)}{tracked}{match.group(2)}"

    out = _HREF.sub(rewrite, html)
    extra = ""
    if honeypot:
        trap = click_url(public_url, secret, outbox_id=outbox_id, url=HONEYPOT_URL)
        extra += (
            f'<a href="{trap}" style="display:none;font-size:0;color:transparent" '
            'aria-hidden="true" tabindex="-1">&#8203;</a>'
        )
    if pixel:
        src = open_url(public_url, secret, outbox_id=outbox_id)
        extra += f'<img src="{src}" width="1" height="1" alt="" style="display:block;border:0">'
    if not extra:
        return out
    at = out.lower().rfind("</body>")
    return out + extra if at < 0 else out[:at] + extra + out[at:]


def track_text(
    text: str, public_url: str, secret: str, *, outbox_id: int, keep: Collection[str] = ()
) -> str:
    """A text part whose bare http(s) URLs go through click redirects, like `track` for HTML.

    Links in `keep` and links to our own public routes (unsubscribe, preference centre) stay
    as they are. One compiled regex and one signature per URL; nothing is stored.
    """
    own = tuple(public_url.rstrip("/") + route for route in _OWN_ROUTES)

    def rewrite(match: re.Match) -> str:
        url = match.group(0)
        if url in keep or url.startswith(own):
            return url
        return click_url(public_url, secret, outbox_id=outbox_id, url=url)

    return _TEXT_URL.sub(rewrite, text)
