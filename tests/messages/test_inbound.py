"""Inbound bounces and complaints: each format parsed from tests/messages/data, hard bounces
and complaints suppressed, soft bounces recorded only, DSNs through a real aiosmtpd receiver."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.customers.tables import Customer, Event
from patron.db import transaction
from patron.messages import bounces, enqueue, inbound, inbound_smtp
from patron.messages.config import MessageConfig
from patron.messages.tables import MessageActivity, OutboxMessage, Suppression
from tests.messages.conftest import NOW, SECRET, customer, free_port, run_lane, template

DATA = Path(__file__).parent / "data"
CAPTURE = MessageConfig(secret_key=SECRET)


def fixture(name: str, message_id: str = "<none@x>") -> bytes:
    """A stored notification with our Message-ID filled in."""
    return (DATA / name).read_text().replace("MSGID", message_id.strip("<>")).encode()


@pytest.fixture
def sent(db) -> str:
    """Messages sent to c1..c3; returns c1's Message-ID."""
    with transaction(db.sessions) as s:
        for n in (1, 2, 3):
            customer(s, n)
        t = template(s)
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=1, now=NOW
        )
    run_lane(db, CAPTURE, "bulk")
    with transaction(db.sessions) as s:
        return s.scalar(select(OutboxMessage.message_id).where(OutboxMessage.address.like("c1@%")))


def _suppressed(db) -> dict[str, str]:
    with transaction(db.sessions) as s:
        return {r.address: r.reason for r in s.scalars(select(Suppression))}


def _post(db, provider: str, body: bytes, key: str | None = "valid"):
    client = TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))
    key = inbound.inbound_key(SECRET, provider) if key == "valid" else key
    query = f"?key={key}" if key else ""
    return client.post(f"/api/messages/inbound/{provider}{query}", content=body)


def test_generic_json_suppresses_hard_bounces_and_complaints_only(db, sent):
    answer = _post(db, "generic", fixture("generic.json", sent))
    assert answer.status_code == 200, answer.text
    assert answer.json() | {} == {
        "notices": 3,
        "suppressed": 2,
        "soft": 1,
        "complaints": 1,
        "matched": 1,
        "subscription_confirmation": False,
    }
    assert _suppressed(db) == {"c1@example.com": "hard_bounce", "c3@example.com": "complaint"}
    with transaction(db.sessions) as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.message_id == sent))
        assert (row.state, row.reason) == ("bounced", "hard_bounce")
        assert s.scalar(select(MessageActivity.kind)) == "bounce"


def test_inbound_needs_the_providers_key_and_valid_bodies(db, sent):
    body = fixture("generic.json", sent)
    assert _post(db, "generic", body, key=None).status_code == 401
    assert _post(db, "generic", body, key=inbound.inbound_key(SECRET, "ses")).status_code == 401
    assert _post(db, "generic", body, key="garbage").status_code == 401
    assert _post(db, "nope", body, key=inbound.inbound_key(SECRET, "nope")).status_code == 422
    bad = _post(db, "generic", b'{"type": "bounce", "address": "nobody"}')
    assert bad.status_code == 422 and "email address" in bad.json()["message"]
    assert _post(db, "dsn", b"Subject: hi\n\nplain mail").status_code == 422
    assert _suppressed(db) == {}


def test_ses_bounce_complaint_and_subscription_confirmation(db, sent, caplog):
    soft = _post(db, "ses", fixture("ses_soft_bounce.json", sent))
    assert soft.json()["soft"] == 1 and _suppressed(db) == {}
    hard = _post(db, "ses", fixture("ses_bounce.json", sent))
    assert hard.json()["matched"] == 1
    assert _suppressed(db) == {"c1@example.com": "hard_bounce"}
    with transaction(db.sessions) as s:
        s.delete(s.get(Suppression, "c1@example.com"))
    complaint = _post(db, "ses", fixture("ses_complaint.json", sent))
    assert complaint.json()["complaints"] == 1
    assert _suppressed(db) == {"c1@example.com": "complaint"}
    with transaction(db.sessions) as s:
        assert s.scalar(select(Event.name)) == "Email Complaint"
    confirm = _post(db, "ses", fixture("ses_subscription.json"))
    assert confirm.json()["subscription_confirmation"] is True
    assert "ConfirmSubscription" in caplog.text


def test_postmark_bounces_and_spam_complaints(db, sent):
    assert _post(db, "postmark", fixture("postmark_soft_bounce.json")).json()["soft"] == 1
    assert _post(db, "postmark", fixture("postmark_bounce.json")).json()["suppressed"] == 1
    assert _post(db, "postmark", fixture("postmark_spam.json")).json()["complaints"] == 1
    assert _suppressed(db) == {"c1@example.com": "hard_bounce", "c3@example.com": "complaint"}


def test_dsn_posted_raw_is_parsed_per_recipient(db, sent):
    parsed = bounces.parse_dsn(fixture("dsn.eml", sent))
    assert [(n.address, n.hard, n.message_id) for n in parsed.notices] == [
        ("c1@example.com", True, sent),
        ("c2@example.com", False, sent),
    ]
    assert "5.1.1" in parsed.notices[0].detail
    assert _post(db, "dsn", fixture("dsn.eml", sent)).json()["suppressed"] == 1
    assert _suppressed(db) == {"c1@example.com": "hard_bounce"}


def test_dsn_through_a_real_aiosmtpd_receiver(db, sent):
    port = free_port()
    controller = inbound_smtp.receiver(db.sessions, lambda: NOW, host="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            dsn = fixture("dsn.eml", sent).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            smtp.sendmail("", ["bounces@shop.example"], dsn)
            smtp.sendmail("a@b.example", ["bounces@shop.example"], b"Subject: hi\r\n\r\nhello\r\n")
    finally:
        controller.stop()
    assert _suppressed(db) == {"c1@example.com": "hard_bounce"}
    with transaction(db.sessions) as s:
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.message_id == sent))
        assert row.state == "bounced"
