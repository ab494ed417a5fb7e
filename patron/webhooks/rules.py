"""Pure rules of webhooks: Standard Webhooks signatures, payloads, back-off, disabling, URLs.

Signatures follow https://www.standardwebhooks.com: the secret is `whsec_` + base64 of random
bytes; each request carries `webhook-id` (the same on every retry of a delivery, for receivers
to dedupe), `webhook-timestamp` (unix seconds of the attempt) and `webhook-signature`:
`v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the secret's bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from patron.errors import InvalidInput

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_URL_LENGTH = 2048
TEST_EVENT_TYPE = "webhook.test"
# Delay before each retry: 8 attempts in all over about 43 hours.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


class InvalidSignature(Exception):
    """A webhook request whose signature, timestamp or headers do not check out."""


# Signing and verifying ---------------------------------------------------------------------


def format_secret(raw: bytes) -> str:
    """A secret as shown to the operator: `whsec_` + base64 of the raw key bytes."""
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("secret is not a whsec_ base64 secret")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value of one request."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of a signed webhook request."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    request_headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check a received webhook; raises InvalidSignature unless it is genuine and recent."""
    lowered = {k.lower(): v for k, v in request_headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp", "")
    given = lowered.get("webhook-signature", "")
    if not msg_id or not stamp.isdigit() or not given:
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    if abs(now.timestamp() - int(stamp)) > tolerance_seconds:
        raise InvalidSignature("timestamp is outside the tolerance window")
    raw = body.encode() if isinstance(body, str) else body
    expected = sign(secret, msg_id, int(stamp), raw)
    # Several space-separated signatures may be sent (e.g. during a secret rotation).
    if not any(hmac.compare_digest(expected, candidate) for candidate in given.split()):
        raise InvalidSignature("no signature matches")


# Payloads -----------------------------------------------------------------------------------


def event_payload(
    *,
    event_type: str,
    event_id: int | None,
    customer_id: int | None,
    occurred_at: datetime,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body of a delivery: type, timestamp, ids and the event's data."""
    return {
        "type": event_type,
        "timestamp": occurred_at.isoformat(),
        "event_id": event_id,
        "customer_id": customer_id,
        "data": dict(data),
    }


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed) for a payload."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


# Retries and disabling ----------------------------------------------------------------------


def is_success(status_code: int | None) -> bool:
    """Only a 2xx answer delivers a webhook (redirects are not followed)."""
    return status_code is not None and 200 <= status_code < 300


def next_attempt_delay(attempts_made: int) -> timedelta | None:
    """How long to wait after `attempts_made` failed attempts; None when we give up."""
    if attempts_made < 1 or attempts_made > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[attempts_made - 1]


@dataclass(frozen=True)
class DisablePolicy:
    """When an endpoint that keeps failing is switched off."""

    max_failures: int = 8
    max_failing_hours: float = 24.0


def disable_reason(
    *,
    consecutive_failures: int,
    failing_since: datetime | None,
    last_status_code: int | None,
    now: datetime,
    policy: DisablePolicy,
) -> str | None:
    """Why the endpoint must be disabled now, or None to keep it enabled.

    410 Gone disables at once; otherwise it takes `max_failures` failed attempts in a row AND
    failing for `max_failing_hours`, so a short outage during a burst of events is retried.
    """
    if last_status_code == 410:
        return "the endpoint answered 410 Gone"
    if failing_since is None or consecutive_failures < policy.max_failures:
        return None
    failing_for = now - failing_since
    if failing_for < timedelta(hours=policy.max_failing_hours):
        return None
    hours = failing_for.total_seconds() / 3600
    return f"{consecutive_failures} failed attempts in a row over {hours:.1f} hours"


# Validation ---------------------------------------------------------------------------------


def validate_url(url: str) -> str:
    """An http(s) URL without credentials (loopback and private hosts are allowed)."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput("url: give the endpoint's URL")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url: at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"url: not a valid URL ({exc})")
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("url: must start with http:// or https://")
    if not parts.hostname:
        raise InvalidInput("url: has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url: must not carry credentials; verify the signature instead")
    if port == 0:
        raise InvalidInput("url: port 0 is not valid")
    if any(ch.isspace() for ch in url):
        raise InvalidInput("url: must not contain spaces")
    return url


def validate_event_types(types: Iterable[str], known: Iterable[str]) -> list[str]:
    """The subscribed types, sorted and unique; each must be a known event type."""
    chosen = sorted({t.strip() for t in types if t and t.strip()})
    if not chosen:
        raise InvalidInput("event_types: subscribe to at least one event type")
    allowed = set(known)
    unknown = [t for t in chosen if t not in allowed]
    if unknown:
        raise InvalidInput(
            f"event_types: unknown event type {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(allowed))}"
        )
    return chosen


def snippet(text: str, limit: int = 500) -> str:
    """The start of a response body, as kept with an attempt."""
    return text if len(text) <= limit else text[:limit] + "…"
