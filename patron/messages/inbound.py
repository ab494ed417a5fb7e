"""Use cases of inbound notifications: bounces and complaints from providers and DSNs.

The endpoint `POST /api/messages/inbound/{provider}?key=KEY` is public (providers cannot log
in), so its key is a token signed with the secret key for that provider: `patron messages
inbound-url --provider ses` prints the URL to configure. Hard bounces and complaints add the
address to the suppression list; soft bounces are recorded on the message only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.messages import bounces, events, outbox, rules, tracking
from patron.messages.tables import OutboxMessage

log = logging.getLogger("patron.messages.inbound")
INBOUND = "inbound"


def inbound_key(secret: str, provider: str) -> str:
    """The key of a provider's inbound URL."""
    return rules.sign(secret, INBOUND, {"p": provider})


def inbound_url(public_url: str, secret: str, provider: str) -> str:
    """The URL a provider posts its notifications to."""
    key = inbound_key(secret, provider)
    return f"{public_url.rstrip('/')}/api/messages/inbound/{provider}?key={key}"


def key_valid(secret: str, provider: str, key: str | None, *, now: datetime) -> bool:
    """Whether a key is the one of this provider's URL."""
    if not key:
        return False
    try:
        return rules.verify(secret, INBOUND, key, now=now).get("p") == provider
    except rules.BadToken:
        return False


@dataclass(frozen=True)
class Applied:
    """What a notification changed."""

    suppressed: int = 0
    soft: int = 0
    complaints: int = 0
    matched: int = 0


def _message_of(session: Session, notice: bounces.Notice) -> OutboxMessage | None:
    """The outbox row a notice is about: by Message-ID, else nothing."""
    if notice.message_id is None:
        return None
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.message_id == notice.message_id)
    )


def apply(session: Session, parsed: bounces.Parsed, *, now: datetime) -> Applied:
    """Suppress, record and track what a parsed notification says."""
    if parsed.subscribe_url:
        # Confirming means fetching this URL: an operator does it (never fetched from here).
        log.warning("SNS subscription confirmation: visit %s", parsed.subscribe_url)
    suppressed = soft = complaints = matched = 0
    for notice in parsed.notices:
        message = _message_of(session, notice)
        matched += message is not None
        if notice.suppresses:
            reason = "complaint" if notice.type == "complaint" else "hard_bounce"
            suppressed += outbox.suppress(
                session, address=notice.address, reason=reason, detail=notice.detail, now=now
            )
        else:
            soft += 1
        if notice.type == "complaint":
            complaints += 1
        if message is None:
            continue
        if notice.type == "bounce" and notice.hard and message.state == "sent":
            message.state, message.reason = "bounced", "hard_bounce"
            message.last_error = notice.detail[:4000] or None
            events.bounced(session, message, now=now)
        tracking.record_activity(
            session, message=message, kind=notice.type, now=now, url=None, user_agent=None
        )
    return Applied(suppressed, soft, complaints, matched)
