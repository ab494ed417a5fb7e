"""Pure rules of messages: caps, quiet hours, signed links, bot filtering, SMTP replies.

No I/O and no clock: `now` and secrets are passed in. Times are aware UTC; a customer's time
zone is an IANA name (zoneinfo), falling back to UTC when unknown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patron.errors import InvalidInput

OUTBOX_STATES = (
    "queued",
    "sending",
    "sent",
    "failed",
    "bounced",
    "suppressed",
    "skipped",
    "uncertain",
)
FINAL_STATES = ("sent", "failed", "bounced", "suppressed", "skipped", "uncertain")
CHANNELS = ("email", "webhook")
KINDS = ("marketing", "transactional")
SUPPRESSION_REASONS = ("hard_bounce", "complaint", "manual")
CAP_POLICIES = ("defer", "skip")
UNCERTAIN_POLICIES = ("never_resend", "resend")
# Retries of a temporary failure: 1 min, 5 min, 30 min, 2 h, 6 h, then failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)


# Time zones, quiet hours and frequency caps ------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    """The customer's time zone, or UTC when missing or unknown."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which marketing messages are not sent.

    `start` may be after `end`: 21:00-08:00 spans midnight. Equal bounds mean no quiet hours.
    """

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, local: time) -> bool:
        """Whether a local wall-clock time falls inside the window."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def after_quiet_hours(now: datetime, time_zone: str | None, quiet: QuietHours) -> datetime:
    """`now` if it is outside the customer's quiet hours, else the end of the window (UTC).

    The end is found on the local calendar, so a DST change inside the window is honoured:
    the result is the first instant whose local time is `quiet.end` (or later, in a gap).
    """
    tz = zone(time_zone)
    local = now.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return now
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day = day + timedelta(days=1)
    end = _first_instant_at(day, quiet.end, tz)
    if end < now:
        # Fall-back overlap: `now` is in the repeated hour, so the window ends when the wall
        # clock reads `quiet.end` the second time.
        end = max(end, _first_instant_at(day, quiet.end, tz, fold=1))
    return end if end >= now else _first_instant_at(day + timedelta(days=1), quiet.end, tz)


def _first_instant_at(day, wall: time, tz: ZoneInfo, *, fold: int = 0) -> datetime:
    """The first aware UTC instant at or after the local wall-clock time on that day."""
    candidate = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold)
    utc = candidate.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        # The wall time fell in a spring-forward gap: no instant reads it, and the first that
        # reads later is the transition itself.
        return _transition(candidate.replace(fold=1).astimezone(UTC), utc, tz)
    # Two instants read the same in a fall-back overlap: fold=0 is the earlier one.
    return utc


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (before, after] with `after`'s UTC offset (bisection to 1 µs)."""
    offset = after.astimezone(tz).utcoffset()
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(tz).utcoffset() == offset:
            after = middle
        else:
            before = middle
    return after


def local_send_time(day, wall: time, time_zone: str | None) -> datetime:
    """The UTC instant of a wall-clock time on a local calendar day (send at local time)."""
    return _first_instant_at(day, wall, zone(time_zone))


@dataclass(frozen=True)
class FrequencyCap:
    """At most `limit` marketing messages per customer in any `days` days (0: no cap)."""

    limit: int = 3
    days: int = 7
    policy: str = "defer"

    def __post_init__(self):
        if self.limit < 0 or self.days < 0:
            raise InvalidInput("frequency cap limit and days must not be negative")
        if self.policy not in CAP_POLICIES:
            raise InvalidInput(f"cap policy must be one of {', '.join(CAP_POLICIES)}")


@dataclass(frozen=True)
class CapDecision:
    """Send now, defer until `until`, or skip (with the reason)."""

    action: str
    until: datetime | None = None
    reason: str | None = None


def check_cap(
    sent_times: list[datetime], now: datetime, cap: FrequencyCap, *, priority: int = 0
) -> CapDecision:
    """Decide a marketing message against the customer's recent marketing sends.

    A message of priority > 0 is exempt (a higher-priority journey step such as a
    password-adjacent notice); over the cap, it is deferred until the oldest send in the window
    leaves it, or skipped, as the cap's policy says.
    """
    if cap.limit == 0 or cap.days == 0 or priority > 0:
        return CapDecision("send")
    window = timedelta(days=cap.days)
    recent = sorted(t for t in sent_times if now - window < t <= now)
    if len(recent) < cap.limit:
        return CapDecision("send")
    if cap.policy == "skip":
        return CapDecision("skip", reason="frequency_cap")
    release = recent[len(recent) - cap.limit] + window
    return CapDecision("defer", until=release, reason="frequency_cap")


# Signed tokens for links -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Inverse of _b64; raises ValueError on garbage."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, purpose: str, payload: dict, *, expires: datetime | None = None) -> str:
    """A tamper-proof token for a link: base64(JSON) + "." + HMAC over purpose and body."""
    body = dict(payload)
    if expires is not None:
        body["exp"] = int(expires.timestamp())
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret.encode(), purpose.encode() + b"." + raw, hashlib.sha256).digest()
    return f"{_b64(raw)}.{_b64(mac[:18])}"


class BadToken(Exception):
    """A link token that was tampered with, is for another purpose, or has expired."""


def verify(secret: str, purpose: str, token: str, *, now: datetime) -> dict:
    """The payload of a valid token; BadToken otherwise."""
    try:
        body_part, mac_part = token.split(".", 1)
        raw, mac = _unb64(body_part), _unb64(mac_part)
        expected = hmac.new(secret.encode(), purpose.encode() + b"." + raw, hashlib.sha256)
        if not hmac.compare_digest(mac, expected.digest()[:18]):
            raise BadToken("the link's signature does not match")
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadToken("the link is malformed") from exc
    if not isinstance(payload, dict):
        raise BadToken("the link is malformed")
    if "exp" in payload and payload["exp"] < now.timestamp():
        raise BadToken("the link has expired")
    return payload


# Bot filtering ------------------------------------------------------------------------------

# Link scanners and prefetchers seen in mail security products and mail clients.
SCANNER_AGENTS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "symantec",
    "forcepoint",
    "trend micro",
    "microsoft office",
    "safelinks",
    "googleimageproxy",
    "yahoomailproxy",
    "bot",
    "crawler",
    "spider",
    "python-requests",
    "curl/",
    "wget/",
    "headless",
)
HUMAN_DELAY_SECONDS = 10


def bot_reason(
    *, user_agent: str | None, seconds_since_delivery: float | None, honeypot: bool
) -> str | None:
    """Why an open or click looks automated, or None when it looks human."""
    if honeypot:
        return "honeypot link"
    agent = (user_agent or "").lower()
    if not agent:
        return "no user agent"
    if any(marker in agent for marker in SCANNER_AGENTS):
        return "link scanner user agent"
    if seconds_since_delivery is not None and seconds_since_delivery < HUMAN_DELAY_SECONDS:
        return f"within {HUMAN_DELAY_SECONDS} s of delivery"
    return None


# SMTP replies, retries and attribution ----------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """How one attempt ended: sent, temporary (retry), permanent (fail) or bounce."""

    kind: str
    detail: str = ""


def classify_smtp(code: int, message: str = "") -> SendOutcome:
    """2xx sent; 4xx temporary; 5xx permanent, and a hard bounce for mailbox errors."""
    detail = f"{code} {message}".strip()
    if 200 <= code < 300:
        return SendOutcome("sent", detail)
    if 400 <= code < 500:
        return SendOutcome("temporary", detail)
    if code in (550, 551, 553) or "user unknown" in message.lower():
        return SendOutcome("bounce", detail)
    return SendOutcome("permanent", detail)


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try a temporary failure again after `attempts` tries; None when done trying."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[attempts - 1]


def attributed(
    order_at: datetime,
    *,
    delivered_at: datetime | None,
    clicked_at: datetime | None,
    click_days: int = 5,
    delivery_days: int = 1,
) -> str | None:
    """Whether an order counts as a conversion of a message: "click", "delivery" or None."""
    if clicked_at is not None and clicked_at <= order_at <= clicked_at + timedelta(click_days):
        return "click"
    if delivered_at is not None and (
        delivered_at <= order_at <= delivered_at + timedelta(delivery_days)
    ):
        return "delivery"
    return None


def parse_quiet_hours(text: str | None) -> QuietHours | None:
    """Quiet hours from "21:00-08:00"; None when empty (no quiet hours)."""
    if not text or not text.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-", 1))
    except ValueError:
        raise InvalidInput(f"quiet hours must look like 21:00-08:00, got {text!r}")
    return QuietHours(start, end)


def parse_local_time(text: str) -> time:
    """A wall-clock "HH:MM" of a local-time send."""
    try:
        return time.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(f"local time must look like 09:30, got {text!r}")
