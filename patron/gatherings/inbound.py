"""Attendance from a webinar tool: a signed webhook (Standard Webhooks, like patron/webhooks).

POST /hooks/gatherings/attendance with `webhook-id`, `webhook-timestamp` and `webhook-signature`
signed with PATRON_GATHERINGS_WEBHOOK_SECRET, and a JSON body
`{"gathering_id": 5, "attendees": [{"email": "a@b.c"}, {"external_id": "c42"}]}`.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

from sqlalchemy.orm import Session

from patron.errors import InvalidInput, Unauthorized
from patron.gatherings import service
from patron.webhooks import rules as signing

SECRET_SETTING = "PATRON_GATHERINGS_WEBHOOK_SECRET"


def verify(headers, body: bytes, *, now: datetime, secret: str | None = None) -> None:
    """Refuse a request that is not signed with the secret (or when none is set)."""
    secret = (secret if secret is not None else os.environ.get(SECRET_SETTING, "")).strip()
    if not secret:
        raise Unauthorized(f"{SECRET_SETTING} is not set: attendance webhooks are refused")
    try:
        signing.verify(secret, headers, body, now=now)
    except signing.InvalidSignature as exc:
        raise Unauthorized(f"webhook signature: {exc}")


def parse(body: bytes) -> tuple[int, list[str], list[str]]:
    """(gathering id, emails, external ids) of a webhook body, or InvalidInput."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("gathering_id"), int):
        raise InvalidInput("gathering_id: an integer is required")
    attendees = data.get("attendees")
    if not isinstance(attendees, list) or not all(isinstance(a, dict) for a in attendees):
        raise InvalidInput("attendees: a list of objects with email or external_id")
    emails = [str(a["email"]).lower() for a in attendees if a.get("email")]
    ids = [str(a["external_id"]) for a in attendees if not a.get("email") and a.get("external_id")]
    return data["gathering_id"], emails, ids


def receive(*, session: Session, headers, body: bytes, now: datetime) -> dict:
    """Verify, then record the attendance the body lists."""
    verify(headers, body, now=now)
    gathering_id, emails, external_ids = parse(body)
    by_email = service.customers_by_email(session, emails)
    by_id = service.customers_by_external_id(session, external_ids)
    recorded = service.record_attendance(
        session=session,
        gathering_id=gathering_id,
        customer_ids=[*by_email.values(), *by_id.values()],
        source="webhook",
        now=now,
    )
    unmatched = sorted({e for e in emails if e not in by_email} | set(external_ids) - set(by_id))
    return {"recorded": recorded, "unmatched": unmatched}
