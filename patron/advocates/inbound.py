"""Community webhooks: the generic format (Standard Webhooks signature) and Discourse's
(X-Discourse-Event-Signature: `sha256=` + hex HMAC-SHA256 of the body with the secret)."""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy.orm import Session

from patron.advocates import rules, service
from patron.errors import Unauthorized
from patron.webhooks import rules as signing

GENERIC_SECRET = "PATRON_ADVOCATES_COMMUNITY_SECRET"
DISCOURSE_SECRET = "PATRON_ADVOCATES_DISCOURSE_SECRET"


def _secret(name: str) -> str:
    """A webhook secret, or Unauthorized when it is not set."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise Unauthorized(f"{name} is not set: these community webhooks are refused")
    return value


def receive_generic(*, session: Session, headers, body: bytes, now: datetime) -> dict:
    """Verify a generic community webhook and record its activities."""
    try:
        signing.verify(_secret(GENERIC_SECRET), headers, body, now=now)
    except signing.InvalidSignature as exc:
        raise Unauthorized(f"webhook signature: {exc}")
    activities = rules.generic(body, now=now)
    return service.record_activities(session=session, activities=activities, now=now)


def receive_discourse(*, session: Session, headers, body: bytes, now: datetime) -> dict:
    """Verify a Discourse webhook; record a post or like received, or learn a member's email."""
    try:
        event = rules.verify_discourse(_secret(DISCOURSE_SECRET), headers, body)
    except rules.InvalidSignature as exc:
        raise Unauthorized(f"Discourse signature: {exc}")
    found = rules.discourse(event, body, now=now)
    if isinstance(found, rules.Activity):
        return {"event": event} | service.record_activities(
            session=session, activities=[found], now=now
        )
    if isinstance(found, rules.DiscourseUser):
        matched = service.remember_member(
            session=session, source=rules.DISCOURSE, user=found, now=now
        )
        return {"event": event, "member": found.username, "matched": matched}
    return {"event": event, "ignored": True}
