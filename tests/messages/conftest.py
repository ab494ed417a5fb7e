"""A real SMTP sink (aiosmtpd on loopback), customers with consent, templates, a sender run."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from patron.customers import service as customers
from patron.db import transaction
from patron.messages import sender, service
from patron.messages.config import MessageConfig
from tests import factories

SECRET = "test-secret-key"
NOW = factories.T0


@dataclass
class Received:
    """One message the sink accepted."""

    rcpt: list[str]
    message: EmailMessage
    raw: bytes
    peer: tuple


@dataclass
class Sink:
    """Accepts mail; `respond(n, envelope)` returns an SMTP reply to refuse the n-th DATA."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    respond: Callable[[int, object], str | None] = lambda n, envelope: None
    delay: Callable[[int], float] = lambda n: 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            n = self.attempts
        reply = self.respond(n, envelope)
        if reply is not None:
            return reply
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.received.append(
                Received(list(envelope.rcpt_tos), message, envelope.original_content, session.peer)
            )
        wait = self.delay(n)
        if wait:
            await asyncio.sleep(wait)
        return "250 OK queued"

    def to(self, address: str) -> list[Received]:
        """Messages received for one address."""
        with self.lock:
            return [r for r in self.received if address in r.rcpt]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sink():
    """An SMTP server on 127.0.0.1 recording every message it accepts."""
    state = Sink(port=free_port())
    controller = Controller(state, hostname="127.0.0.1", port=state.port, decode_data=False)
    controller.start()
    yield state
    controller.stop()


@pytest.fixture(autouse=True)
def link_secret(monkeypatch):
    """The secret key the sender job reads from the environment."""
    monkeypatch.setenv("PATRON_SECRET_KEY", SECRET)


def smtp_config(sink: Sink, **overrides) -> MessageConfig:
    """Settings that send to the sink."""
    values = dict(
        secret_key=SECRET,
        email_channel="smtp",
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_security="none",
        smtp_timeout_seconds=10,
        from_address="Shop <news@shop.example>",
        public_url="https://shop.example",
    )
    values.update(overrides)
    return MessageConfig(**values)


def customer(session, n: int, *, consent: str | None = "granted", **profile):
    """A customer c{n} with email c{n}@example.com and that email consent."""
    c = factories.customer(
        session, f"c{n}", email=f"c{n}@example.com", first_name=f"Name{n}", **profile
    )
    if consent:
        customers.set_consent(
            session=session, customer=c, channel="email", status=consent, source="test", now=NOW
        )
    return c


def template(session, *, kind: str = "marketing", name: str = "news", body: str | None = None):
    """A template greeting the customer by first name."""
    body = body or "<p>Hello {{ customer.first_name }}</p><a href='{{ unsubscribe_url }}'>u</a>"
    return service.create_template(
        session=session,
        data=service.TemplateInput(
            name=name,
            kind=kind,
            variants=[service.VariantInput(subject="Hi {{ customer.first_name }}", body=body)],
        ),
        now=NOW,
    )


def run_lane(db, config: MessageConfig, lane: str, now=NOW, worker: str = "w1") -> int:
    """Send every due row of a lane with a fixed clock; returns how many were claimed."""
    total = 0
    while count := sender.send_batch(
        db.sessions, config, lane=lane, worker=worker, clock=lambda: now
    ):
        total += count
    return total


def states(db) -> dict[int, tuple[str, str | None]]:
    """Each outbox row's (state, reason) by customer id."""
    from sqlalchemy import select

    from patron.messages.tables import OutboxMessage

    with transaction(db.sessions) as s:
        rows = s.execute(
            select(OutboxMessage.customer_id, OutboxMessage.state, OutboxMessage.reason)
        )
        return {r.customer_id: (r.state, r.reason) for r in rows}
