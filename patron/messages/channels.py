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

import binascii
import contextlib
import functools
import html as html_lib
import secrets
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from typing import Protocol

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from patron.db import transaction
from patron.messages import links, rules
from patron.messages.config import MessageConfig
from patron.messages.tables import CapturedMessage
from patron.webhooks import rules as webhook_rules

CRLF = b"\r\n"
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
    unsubscribe_url: str | None = None


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
    url = envelope.unsubscribe_url or links.unsubscribe_url(
        config.public_url,
        config.secret_key,
        customer_id=envelope.customer_id,
        outbox_id=envelope.outbox_id,
    )
    mailto = links.unsubscribe_mailto(config.mailto, customer_id=envelope.customer_id)
    return {
        # Folded between the two URIs: each line stays well under 998 octets (RFC 5322).
        "List-Unsubscribe": f"<{url}>,\r\n <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _header(name: str, value: str) -> bytes:
    """One header line: as it is when short ASCII, else RFC 2047 encoded and folded."""
    value = value.replace("\r\n ", "\x00").replace("\r", " ").replace("\n", " ")
    if value.isascii() and len(name) + len(value) < 996:
        return f"{name}: {value}".replace("\x00", "\r\n ").encode() + CRLF
    value = value.replace("\x00", " ")
    folded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}".encode() + CRLF


@functools.lru_cache(maxsize=64)
def _address_header(name: str, value: str) -> bytes:
    """An address header (From, Reply-To) with a non-ASCII display name encoded."""
    display, address = parseaddr(value)
    if not address:
        return _header(name, value)
    return f"{name}: {formataddr((display, address), 'utf-8')}".encode() + CRLF


def _part(subtype: str, body: str) -> bytes:
    """A text part, UTF-8 and quoted-printable (7-bit safe, lines of at most 76 octets)."""
    data = body.replace("\r\n", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, istext=True).replace(b"\n", CRLF)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode() + encoded


def email_bytes(config: MessageConfig, envelope: Envelope, *, now: datetime) -> bytes:
    """The MIME message as sent: headers, then multipart/alternative (text, then HTML).

    Built as bytes directly (the email package's header registry costs more than the rest of
    a send); the boundary starts with "=_", which quoted-printable bodies can never contain.
    """
    boundary = f"=_{secrets.token_hex(12)}"
    head = [
        _address_header("From", config.from_address),
        _header("To", envelope.to),
        _header("Subject", envelope.subject),
        _header("Date", format_datetime(now)),
        _header("Message-ID", envelope.message_id),
    ]
    if config.reply_to:
        head.append(_address_header("Reply-To", config.reply_to))
    if envelope.kind == "marketing":
        head += [_header(k, v) for k, v in unsubscribe_headers(config, envelope).items()]
    head += [_header(k, v) for k, v in envelope.extra_headers.items()]
    head.append(b"MIME-Version: 1.0\r\n")
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode())
    line = f"--{boundary}\r\n".encode()
    return b"".join(
        [
            *head,
            line,
            _part("plain", envelope.text),
            CRLF,
            line,
            _part("html", _with_preheader(envelope.html, envelope.preheader)),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


def build_email(config: MessageConfig, envelope: Envelope, *, now: datetime) -> EmailMessage:
    """The MIME message of `email_bytes`, parsed (for the capture mailbox and tests)."""
    raw = email_bytes(config, envelope, now=now)
    return message_from_bytes(raw, _class=EmailMessage, policy=SMTP)


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
        raw = email_bytes(self.config, envelope, now=self.clock())
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
