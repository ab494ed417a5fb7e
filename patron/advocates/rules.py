"""Pure rules of advocates: the advocacy score's parts and weights, and community webhooks
(the documented generic format and Discourse's payloads, with their signatures)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from patron.errors import InvalidInput

# The parts of the score, in column order, and the event type each comes from.
PARTS = ("promoter", "referral", "review", "attendance", "community")
PART_OF_EVENT = {
    "survey.answered": "promoter",
    "referral.qualified": "referral",
    "review.approved": "review",
    "gathering.attended": "attendance",
    "community.activity": "community",
}
DEFAULT_WEIGHTS = "promoter=3,referral=5,review=2,attendance=2,community=1"
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_BATCH = 1000


class InvalidSignature(Exception):
    """A community webhook whose signature does not check out."""


def parse_weights(text: str) -> np.ndarray:
    """Weights by part from `part=number,...` (parts left out weigh 0)."""
    weights = dict.fromkeys(PARTS, 0.0)
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in weights:
            raise InvalidInput(f"advocacy weights: unknown part {name!r} ({', '.join(PARTS)})")
        try:
            weights[name] = float(value)
        except ValueError:
            raise InvalidInput(f"advocacy weights: {name} needs a number, got {value!r}")
        if weights[name] < 0:
            raise InvalidInput(f"advocacy weights: {name} must not be negative")
    return np.array([weights[p] for p in PARTS])


def scores(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The advocacy score of each row of part counts (n x len(PARTS)): the weighted sum."""
    counts = np.asarray(counts, dtype=float).reshape(-1, len(PARTS))
    return counts @ weights


def credit_ref(event_type: str, data: dict) -> str | None:
    """What makes one act unique within its part (None: the event earns nothing)."""
    if event_type == "survey.answered":
        return _ref(data.get("response_id"))
    if event_type == "referral.qualified":
        return _ref(data.get("referral_id"))
    if event_type == "review.approved":
        return _ref(data.get("review_id"))
    if event_type == "gathering.attended":
        return _ref(data.get("gathering_id"))
    if event_type == "community.activity":
        source, external = data.get("source"), data.get("external_id")
        return f"{source}:{external}"[:255] if source and external else None
    return None


def _ref(value) -> str | None:
    """An id as a credit reference."""
    return None if value is None or value == "" else str(value)[:255]


# Community activity ------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """One community act: who (email or username), what kind, its id at the source, when."""

    source: str
    external_id: str
    kind: str
    email: str | None
    username: str | None
    occurred_at: datetime


def _when(value, default: datetime) -> datetime:
    """An ISO 8601 time with an offset, or the default."""
    if not value:
        return default
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"occurred_at: {value!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        raise InvalidInput("occurred_at needs a time zone offset")
    return moment


def generic(body: bytes, *, now: datetime) -> list[Activity]:
    """Activities of the documented generic JSON format.

    `{"source": "forum", "activities": [{"id": "p1", "kind": "post", "email": "a@b.c",
    "occurred_at": "2026-01-01T10:00:00Z"}]}`; one activity object alone is accepted too.
    """
    data = _json(body)
    items = data.get("activities", [data]) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        raise InvalidInput(f"activities: a list of 1 to {MAX_BATCH} objects")
    source = str(data.get("source") or "community")[:32]
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"activities[{n}]: an object")
        kind, ident, email = item.get("kind"), item.get("id"), item.get("email")
        if not isinstance(kind, str) or not _KIND.match(kind):
            raise InvalidInput(f"activities[{n}].kind: lower-case letters, digits, _ (max 32)")
        if ident is None or not str(ident):
            raise InvalidInput(f"activities[{n}].id: the activity's id at the source")
        if not isinstance(email, str) or "@" not in email:
            raise InvalidInput(f"activities[{n}].email: the member's email")
        out.append(
            Activity(
                source=str(item.get("source") or source)[:32],
                external_id=str(ident)[:255],
                kind=kind,
                email=email.strip().lower(),
                username=None,
                occurred_at=_when(item.get("occurred_at"), now),
            )
        )
    return out


def _json(body: bytes):
    """The JSON of a body, or InvalidInput."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON")


# Discourse ---------------------------------------------------------------------------------

DISCOURSE = "discourse"
DISCOURSE_ACTIVITY = ("post_created", "post_liked")
DISCOURSE_USERS = ("user_created", "user_updated", "user_approved")


def discourse_signature(secret: str, body: bytes) -> str:
    """The X-Discourse-Event-Signature of a body: `sha256=` + hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_discourse(secret: str, headers, body: bytes) -> str:
    """Check a Discourse webhook's signature; returns its X-Discourse-Event."""
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get("x-discourse-event-signature", "")
    if not given:
        raise InvalidSignature("missing X-Discourse-Event-Signature")
    if not hmac.compare_digest(discourse_signature(secret, body), given.strip()):
        raise InvalidSignature("X-Discourse-Event-Signature does not match")
    return lowered.get("x-discourse-event", "")


@dataclass(frozen=True)
class DiscourseUser:
    """A Discourse account's username and email (from a user webhook)."""

    username: str
    email: str


def discourse(event: str, body: bytes, *, now: datetime) -> Activity | DiscourseUser | None:
    """What a Discourse webhook means here: an activity, a member's email, or nothing.

    `post_created` (`{"post": {...}}`) is a post (a topic when post_number is 1) by its
    author; `post_liked` (`{"like": {"post": {...}, "user": {...}}}`) is a like received by
    the post's author. `user_*` events teach the username's email, which later posts use.
    """
    data = _json(body)
    if not isinstance(data, dict):
        raise InvalidInput("the body is not a JSON object")
    if event == "post_created":
        post = _obj(data, "post")
        kind = "topic" if post.get("post_number") == 1 else "post"
        return _discourse_activity(f"post:{post.get('id')}", kind, post, post, now)
    if event == "post_liked":
        like = _obj(data, "like")
        post, liker = _obj(like, "post"), like.get("user") or {}
        ref = f"like:{post.get('id')}:{liker.get('id') or liker.get('username')}"
        return _discourse_activity(ref, "like_received", post, {}, now)
    if event in DISCOURSE_USERS:
        user = _obj(data, "user")
        if user.get("username") and isinstance(user.get("email"), str) and "@" in user["email"]:
            return DiscourseUser(str(user["username"])[:255], user["email"].strip().lower())
    return None


def _obj(data: dict, key: str) -> dict:
    """A nested object of a payload, or InvalidInput."""
    value = data.get(key)
    if not isinstance(value, dict):
        raise InvalidInput(f"{key}: an object is required for this event")
    return value


def _discourse_activity(ref: str, kind: str, post: dict, timed: dict, now: datetime) -> Activity:
    """An activity credited to the author of a post."""
    if post.get("id") is None or not post.get("username"):
        raise InvalidInput("post: id and username are required")
    email = post.get("email") or post.get("user_email")
    return Activity(
        source=DISCOURSE,
        external_id=ref[:255],
        kind=kind,
        email=email.strip().lower() if isinstance(email, str) else None,
        username=str(post["username"])[:255],
        occurred_at=_when(timed.get("created_at"), now),
    )
