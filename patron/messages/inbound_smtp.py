"""A small inbound SMTP receiver (aiosmtpd) for delivery status notifications.

Point the Return-Path (bounce) domain's MX, or a relay, at it: every message it accepts that is
an RFC 3464 report is parsed and applied like a POST to /api/messages/inbound/dsn. Other mail
is accepted and dropped, so a mail server does not retry it forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from patron.db import transaction
from patron.errors import InvalidInput
from patron.messages import bounces, inbound

log = logging.getLogger("patron.messages.inbound")


class DsnHandler:
    """aiosmtpd handler: parse each message as a DSN and apply it in its own transaction."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]):
        self.sessions = sessions
        self.clock = clock

    def _apply(self, raw: bytes) -> str:
        """Apply one message; returns the SMTP reply."""
        try:
            parsed = bounces.parse_dsn(raw)
        except InvalidInput as exc:
            log.info("inbound mail dropped: %s", exc.message)
            return "250 OK (not a delivery status notification: dropped)"
        with transaction(self.sessions) as session:
            applied = inbound.apply(session, parsed, now=self.clock())
        return f"250 OK ({len(parsed.notices)} notices, {applied.suppressed} suppressed)"

    async def handle_DATA(self, server, session, envelope) -> str:
        """Run the database work off the event loop."""
        return await asyncio.to_thread(self._apply, envelope.original_content or b"")


def receiver(
    sessions: sessionmaker[Session], clock: Callable[[], datetime], *, host: str, port: int
) -> Controller:
    """A started-on-demand controller listening on host:port."""
    return Controller(DsnHandler(sessions, clock), hostname=host, port=port, decode_data=False)
