"""Channels behind one sender protocol: `capture` (the default), `smtp`, and `webhook`.

A sender is opened for a worker's batch and closed after it: `smtp` keeps one connection for
the whole batch (reconnecting after an error), paces itself to the configured rate and signs
with DKIM when a key is configured. `send` never raises for delivery trouble: it answers a
`rules.SendOutcome` (sent, temporary, permanent, bounce) that the outbox records.

Every email is multipart/alternative (text, then HTML) with the Message-ID stored on the outbox
row before the attempt; marketing mail carries List-Unsubscribe (https and mailto) and
List-Unsubscribe-Post (RFC 8058), so a mail client's one-click button needs no second click.
"""

from __future__ import annotations

import contextlib
import html as html_lib
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Protocol

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from patron.db import transaction
from patron.messages import links, rules
from patron.messages.config import MessageConfig
from patron.messages.tables import CapturedMessage
from patron.webhooks import rules as webhook_rules

DKIM_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe"]


@dataclass(frozen=True)
class Envelope:
    """One rendered message to one address, ready for a channel."""

    to: str
    subject: str
    html: str
    text: str
    message_id: str
    customer_id: int
    kind: str = "transactional"
    channel: str = "email"
    outbox_id: int | None = None
    preheader: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)


class Sender(Protocol):
    """What every channel does: send one envelope, and close when the batch is over."""

    def send(self, envelope: Envelope) -> rules.SendOutcome: ...

    def close(self) -> None: ...


# Building the email ---------------------------------------------------------------------------


def _with_preheader(html: str, preheader: str) -> str:
    """The HTML with the preheader as hidden text first in the body (the inbox preview line)."""
    if not preheader:
        return html
    hidden = (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
        f"{html_lib.escape(preheader)}</div>"
    )
    at = html.lower().find("<body")
    if at < 0:
        return hidden + html
    end = html.find(">", at) + 1
    return html[:end] + hidden + html[end:]


def unsubscribe_headers(config: MessageConfig, envelope: Envelope) -> dict[str, str]:
    """List-Unsubscribe (https and mailto) and List-Unsubscribe-Post of a marketing email."""
    url = links.unsubscribe_url(
        config.public_url,
        config.secret_key,
        customer_id=envelope.customer_id,
        outbox_id=envelope.outbox_id,
    )
    mailto = links.unsubscribe_mailto(config.mailto, customer_id=envelope.customer_id)
    return {
        "List-Unsubscribe": f"<{url}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def build_email(config: MessageConfig, envelope: Envelope, *, now: datetime) -> EmailMessage:
    """The MIME message: headers, a text part and an HTML part."""
    message = EmailMessage(policy=SMTP)
    message["From"] = config.from_address
    message["To"] = envelope.to
    message["Subject"] = envelope.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = envelope.message_id
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    if envelope.kind == "marketing":
        for name, value in unsubscribe_headers(config, envelope).items():
            message[name] = value
    for name, value in envelope.extra_headers.items():
        message[name] = value
    message.set_content(envelope.text)
    message.add_alternative(_with_preheader(envelope.html, envelope.preheader), subtype="html")
    return message


def dkim_signer(config: MessageConfig) -> Callable[[bytes], bytes] | None:
    """A function that prepends a DKIM-Signature, or None when no key is configured."""
    if not (config.dkim_domain and config.dkim_key_file):
        return None
    import dkim

    with open(config.dkim_key_file, "rb") as key_file:
        key = key_file.read()
    selector, domain = config.dkim_selector.encode(), config.dkim_domain.encode()

    def sign(raw: bytes) -> bytes:
        signature = dkim.sign(raw, selector, domain, key, include_headers=DKIM_HEADERS)
        return signature + raw

    return sign


# capture ------------------------------------------------------------------------------------


class CaptureSender:
    """Keeps each message in `captured_messages` (the dashboard mailbox) instead of sending.

    Idempotent per outbox row (unique outbox_id): a repeat after a crash captures nothing new.
    """

    def __init__(self, config: MessageConfig, sessions: sessionmaker[Session], clock):
        self.config, self.sessions, self.clock = config, sessions, clock

    def send(self, envelope: Envelope) -> rules.SendOutcome:
        """Store the full MIME message."""
        now = self.clock()
        message = build_email(self.config, envelope, now=now)
        html_part = message.get_body(("html",))
        text_part = message.get_body(("plain",))
        row = CapturedMessage(
            outbox_id=envelope.outbox_id,
            to_address=envelope.to,
            subject=envelope.subject,
            headers={k: str(v) for k, v in message.items()},
            html=html_part.get_content() if html_part else "",
            text=text_part.get_content() if text_part else "",
            raw=message.as_string(),
            captured_at=now,
        )
        try:
            with transaction(self.sessions) as session:
                session.add(row)
        except IntegrityError:
            return rules.SendOutcome("sent", "captured earlier")
        return rules.SendOutcome("sent", "250 captured")

    def close(self) -> None:
        """Nothing to close."""


# smtp -----------------------------------------------------------------------------------------


class SmtpSender:
    """Sends over one reused SMTP connection, at most `rate` messages a second."""

    def __init__(self, config: MessageConfig, clock):
        self.config, self.clock = config, clock
        self.connection: smtplib.SMTP | None = None
        self.sign = dkim_signer(config)
        self.interval = 1.0 / config.smtp_rate_per_second if config.smtp_rate_per_second else 0
        self.last_send = 0.0

    def _connect(self) -> smtplib.SMTP:
        """Open (and authenticate) the connection."""
        c = self.config
        if c.smtp_security == "ssl":
            context = ssl.create_default_context()
            connection = smtplib.SMTP_SSL(
                c.smtp_host, c.smtp_port, timeout=c.smtp_timeout_seconds, context=context
            )
        else:
            connection = smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=c.smtp_timeout_seconds)
            if c.smtp_security == "starttls":
                connection.starttls(context=ssl.create_default_context())
        if c.smtp_username:
            connection.login(c.smtp_username, c.smtp_password)
        return connection

    def _pace(self) -> None:
        """Wait so that sends are at least 1/rate seconds apart."""
        if self.interval:
            wait = self.last_send + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last_send = time.monotonic()

    def send(self, envelope: Envelope) -> rules.SendOutcome:
        """One message; the connection is dropped after any error and reopened next time."""
        message = build_email(self.config, envelope, now=self.clock())
        raw = message.as_bytes()
        if self.sign is not None:
            raw = self.sign(raw)
        self._pace()
        if self.connection is None:
            try:
                self.connection = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                # A server that is down or refuses our login: every message waits and retries.
                self._drop()
                return rules.SendOutcome("temporary", f"cannot connect: {_describe(exc)}")
        try:
            self.connection.sendmail(self.config.from_email, [envelope.to], raw)
            return rules.SendOutcome("sent", "250 accepted")
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return self._refused(code, reply)
        except smtplib.SMTPResponseException as exc:
            return self._refused(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return rules.SendOutcome("temporary", f"connection lost: {_describe(exc)}")

    def _refused(self, code: int, reply) -> rules.SendOutcome:
        """Classify a refusal; after 421 the server closes the connection, so drop it."""
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        if code == 421:
            self._drop()
        return rules.classify_smtp(code, text)

    def _drop(self) -> None:
        """Forget the connection (closing it quietly)."""
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
        self.connection = None

    def close(self) -> None:
        """QUIT the connection at the end of the batch."""
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
        self._drop()


# webhook --------------------------------------------------------------------------------------


class WebhookSender:
    """POSTs each message as JSON signed like Patron's webhooks (webhook-id = Message-ID)."""

    def __init__(self, config: MessageConfig, clock):
        self.config, self.clock = config, clock
        self.client = httpx.Client(timeout=config.smtp_timeout_seconds, follow_redirects=False)

    def send(self, envelope: Envelope) -> rules.SendOutcome:
        """One POST; 2xx sent, 408/429/5xx and network errors temporary, other 4xx permanent."""
        if not (self.config.webhook_url and self.config.webhook_secret):
            return rules.SendOutcome("permanent", "the webhook channel is not configured")
        body = webhook_rules.body_bytes(
            {
                "message_id": envelope.message_id,
                "customer_id": envelope.customer_id,
                "to": envelope.to,
                "kind": envelope.kind,
                "subject": envelope.subject,
                "text": envelope.text,
            }
        )
        stamp = int(self.clock().timestamp())
        headers = webhook_rules.headers(
            self.config.webhook_secret, envelope.message_id, stamp, body
        )
        try:
            response = self.client.post(self.config.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return rules.SendOutcome("temporary", f"{type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        if 200 <= status < 300:
            return rules.SendOutcome("sent", f"HTTP {status}")
        if status in (408, 429) or status >= 500:
            return rules.SendOutcome("temporary", f"HTTP {status}")
        return rules.SendOutcome("permanent", f"HTTP {status}")

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def _describe(exc: Exception) -> str:
    """An exception as one line."""
    return f"{type(exc).__name__}: {exc}"[:500]


def open_sender(
    config: MessageConfig, channel: str, *, sessions: sessionmaker[Session], clock
) -> Sender:
    """The sender of a channel (`email` goes by PATRON_MESSAGES_EMAIL_CHANNEL)."""
    if channel == "webhook":
        return WebhookSender(config, clock)
    if config.email_channel == "smtp":
        return SmtpSender(config, clock)
    return CaptureSender(config, sessions, clock)
