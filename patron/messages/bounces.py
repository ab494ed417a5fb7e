"""Pure parsers of bounce and complaint notifications into one shape, `Notice`.

Formats: the generic JSON documented in the README, Amazon SES through SNS, Postmark's bounce
and spam-complaint webhooks, and RFC 3464 delivery status notifications (multipart/report with
a message/delivery-status part, read with the stdlib email package). No I/O: an SNS
subscription confirmation is returned as such, never fetched here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message

from patron.errors import InvalidInput

PROVIDERS = ("generic", "ses", "postmark", "dsn")
NOTICE_TYPES = ("bounce", "complaint")
# Postmark bounce types that mean the address will never accept mail.
POSTMARK_HARD = ("HardBounce", "BadEmailAddress", "ManuallyDeactivated")


@dataclass(frozen=True)
class Notice:
    """One recipient's bounce or complaint; `message_id` is our Message-ID when known."""

    type: str
    address: str
    hard: bool = False
    message_id: str | None = None
    detail: str = ""

    @property
    def suppresses(self) -> bool:
        """Hard bounces and complaints put the address on the suppression list."""
        return self.type == "complaint" or self.hard


@dataclass(frozen=True)
class Parsed:
    """What a notification said: notices, or an SNS subscription URL to confirm by hand."""

    notices: tuple[Notice, ...] = ()
    subscribe_url: str | None = None


def _json(body: bytes) -> object:
    """The JSON of a request body, or InvalidInput naming the problem."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not JSON: {exc}") from exc


def _address(value: object) -> str:
    """An email address from a notification, checked and lowercased."""
    if not isinstance(value, str) or "@" not in value or len(value) > 320:
        raise InvalidInput(f"not an email address: {value!r}")
    return value.strip().strip("<>").lower()


def _message_id(value: object) -> str | None:
    """A Message-ID in angle brackets, as the outbox stores it."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


def parse_generic(body: bytes) -> Parsed:
    """{"type": "bounce"|"complaint", "address", "message_id", "hard", "detail"}, or a list."""
    data = _json(body)
    items = data if isinstance(data, list) else [data]
    notices = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in NOTICE_TYPES:
            raise InvalidInput('each notice needs "type": "bounce" or "complaint"')
        if not isinstance(item.get("hard", False), bool):
            raise InvalidInput('"hard" must be true or false')
        notices.append(
            Notice(
                type=item["type"],
                address=_address(item.get("address")),
                hard=bool(item.get("hard", False)),
                message_id=_message_id(item.get("message_id")),
                detail=str(item.get("detail") or "")[:1000],
            )
        )
    return Parsed(tuple(notices))


def _ses_message_id(mail: dict) -> str | None:
    """Our Message-ID header as SES echoes it back."""
    for header in mail.get("headers") or ():
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            return _message_id(header.get("value"))
    return _message_id((mail.get("commonHeaders") or {}).get("messageId"))


def parse_ses(body: bytes) -> Parsed:
    """An SNS envelope: SubscriptionConfirmation, or a Notification carrying SES JSON."""
    envelope = _json(body)
    if not isinstance(envelope, dict):
        raise InvalidInput("an SNS message is a JSON object")
    kind = envelope.get("Type")
    if kind == "SubscriptionConfirmation":
        url = envelope.get("SubscribeURL")
        if not isinstance(url, str):
            raise InvalidInput("SubscriptionConfirmation without SubscribeURL")
        return Parsed(subscribe_url=url)
    if kind != "Notification":
        raise InvalidInput(f"unsupported SNS message type {kind!r}")
    inner = envelope.get("Message")
    ses = _json(inner.encode()) if isinstance(inner, str) else inner
    if not isinstance(ses, dict):
        raise InvalidInput("the SNS Message is not SES JSON")
    what = ses.get("notificationType") or ses.get("eventType")
    mail = ses.get("mail") or {}
    message_id = _ses_message_id(mail) if isinstance(mail, dict) else None
    if what == "Bounce":
        bounce = ses.get("bounce") or {}
        hard = bounce.get("bounceType") == "Permanent"
        return Parsed(
            tuple(
                Notice(
                    "bounce",
                    _address(r.get("emailAddress")),
                    hard=hard,
                    message_id=message_id,
                    detail=str(r.get("diagnosticCode") or bounce.get("bounceSubType") or "")[:1000],
                )
                for r in bounce.get("bouncedRecipients") or ()
            )
        )
    if what == "Complaint":
        complaint = ses.get("complaint") or {}
        return Parsed(
            tuple(
                Notice(
                    "complaint",
                    _address(r.get("emailAddress")),
                    message_id=message_id,
                    detail=str(complaint.get("complaintFeedbackType") or "complaint"),
                )
                for r in complaint.get("complainedRecipients") or ()
            )
        )
    return Parsed()  # deliveries and other SES events say nothing about bounces


def parse_postmark(body: bytes) -> Parsed:
    """A Postmark bounce or spam-complaint webhook."""
    data = _json(body)
    if not isinstance(data, dict):
        raise InvalidInput("a Postmark webhook is a JSON object")
    record = data.get("RecordType")
    if record == "SpamComplaint" or data.get("Type") == "SpamComplaint":
        return Parsed((Notice("complaint", _address(data.get("Email")), detail="SpamComplaint"),))
    if record != "Bounce":
        return Parsed()
    kind = str(data.get("Type") or "")
    detail = f"{kind}: {data.get('Description') or data.get('Details') or ''}".strip()
    return Parsed(
        (Notice("bounce", _address(data.get("Email")), hard=kind in POSTMARK_HARD, detail=detail),)
    )


def _original_message_id(report: Message) -> str | None:
    """The Message-ID of the returned message (message/rfc822 or text/rfc822-headers)."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return _message_id(str(inner["Message-ID"]))
        if kind == "text/rfc822-headers":
            headers = message_from_bytes(part.get_payload(decode=True) or b"")
            if headers.get("Message-ID"):
                return _message_id(str(headers["Message-ID"]))
    return None


def _recipient_notice(fields: Message, message_id: str | None) -> Notice | None:
    """The notice of one per-recipient block of a delivery-status part."""
    action = str(fields.get("Action", "")).strip().lower()
    if action not in ("failed", "delayed"):
        return None  # delivered, relayed, expanded
    recipient = str(fields.get("Final-Recipient") or fields.get("Original-Recipient") or "")
    address = recipient.split(";", 1)[-1]
    status = str(fields.get("Status", "")).strip()
    diagnostic = str(fields.get("Diagnostic-Code", "")).split(";", 1)[-1].strip()
    return Notice(
        "bounce",
        _address(address.strip()),
        hard=action == "failed" and status.startswith("5"),
        message_id=message_id,
        detail=f"{status} {diagnostic}".strip()[:1000],
    )


def parse_dsn(raw: bytes) -> Parsed:
    """An RFC 3464 delivery status notification (the raw message as a mail server got it)."""
    report = message_from_bytes(raw, policy=policy.compat32)
    status_parts = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]
    if not status_parts:
        raise InvalidInput("not a delivery status notification: no message/delivery-status part")
    message_id = _original_message_id(report)
    notices = []
    for part in status_parts:
        blocks = part.get_payload()
        # The first block is per-message (Reporting-MTA); the rest are per-recipient.
        for fields in (blocks if isinstance(blocks, list) else [])[1:]:
            notice = _recipient_notice(fields, message_id)
            if notice is not None:
                notices.append(notice)
    return Parsed(tuple(notices))


PARSERS = {
    "generic": parse_generic,
    "ses": parse_ses,
    "postmark": parse_postmark,
    "dsn": parse_dsn,
}


def parse(provider: str, body: bytes) -> Parsed:
    """Parse a notification of a provider; InvalidInput for an unknown one or bad body."""
    parser = PARSERS.get(provider)
    if parser is None:
        raise InvalidInput(f"unknown provider {provider!r}: one of {', '.join(PROVIDERS)}")
    return parser(body)
