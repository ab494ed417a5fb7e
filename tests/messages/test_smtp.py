"""A real SMTP server on loopback: one message per recipient, headers, DKIM, retries, bounces."""

from __future__ import annotations

from datetime import timedelta

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from patron.customers.read import Customer
from patron.db import transaction
from patron.messages import enqueue, links
from patron.messages.tables import OutboxMessage, Suppression
from tests.messages.conftest import NOW, SECRET, customer, run_lane, smtp_config, states, template

RECIPIENTS = 12


def _fan_out(db, n: int = RECIPIENTS, kind: str = "marketing") -> int:
    with transaction(db.sessions) as s:
        for i in range(n):
            customer(s, i)
        t = template(s, kind=kind)
        added = enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=1, now=NOW
        )
        again = enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=1, now=NOW
        )
    assert (added, again) == (n, 0)  # fanning out twice queues each customer once
    return t.id


def test_each_recipient_gets_exactly_one_multipart_message_with_unsubscribe_headers(db, sink):
    _fan_out(db)
    config = smtp_config(sink, batch=5)
    assert run_lane(db, config, "bulk") == RECIPIENTS
    assert run_lane(db, config, "bulk") == 0
    with transaction(db.sessions) as s:
        rows = {r.address: r for r in s.scalars(select(OutboxMessage))}
    assert sorted(len(sink.to(f"c{i}@example.com")) for i in range(RECIPIENTS)) == [1] * RECIPIENTS
    for received in sink.received:
        [address] = received.rcpt
        message, row = received.message, rows[address]
        assert row.state == "sent" and row.sent_at == NOW
        assert message["Message-ID"] == row.message_id
        assert row.message_id.startswith(f"<{row.id}.") and row.message_id.endswith(
            "@shop.example>"
        )
        assert message.get_content_type() == "multipart/alternative"
        parts = [p.get_content_type() for p in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        first = address.split("@")[0].replace("c", "Name")
        assert message["Subject"] == f"Hi {first}"
        assert f"Hello {first}" in message.get_body(("html",)).get_content()
        assert f"Hello {first}" in message.get_body(("plain",)).get_content()
        assert message["From"] == "Shop <news@shop.example>"
        https, mailto = [v.strip(" <>") for v in message["List-Unsubscribe"].split(",")]
        assert https.startswith("https://shop.example/u/") and mailto.startswith("mailto:news@")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = https.rsplit("/", 1)[1]
        assert links.read_unsubscribe(SECRET, token, now=NOW)["c"] == row.customer_id
    # One connection per batch of five, reused: 12 messages over 3 connections.
    assert len({r.peer for r in sink.received}) == 3


def test_transactional_mail_has_no_list_unsubscribe(db, sink):
    with transaction(db.sessions) as s:
        c = customer(s, 1, consent=None)  # transactional mail needs no marketing consent
        t = template(s, kind="transactional", name="receipt")
        enqueue.enqueue_one(
            s,
            customer_id=c.id,
            template_id=t.id,
            kind="transactional",
            source="api",
            source_id=t.id,
            now=NOW,
        )
    run_lane(db, smtp_config(sink), "transactional")
    [received] = sink.received
    assert received.message["List-Unsubscribe"] is None
    assert received.message.get_content_type() == "multipart/alternative"


def _rsa_key_pem() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_dkim_signature_verifies(db, sink, tmp_path):
    import base64

    private, public = _rsa_key_pem()
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(private)
    _fan_out(db, 2)
    config = smtp_config(
        sink, dkim_domain="shop.example", dkim_selector="s1", dkim_key_file=str(key_file)
    )
    run_lane(db, config, "bulk")
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        assert name == b"s1._domainkey.shop.example."
        return record

    assert len(sink.received) == 2
    for received in sink.received:
        assert b"DKIM-Signature:" in received.raw.split(b"\r\n\r\n")[0]
        assert dkim.verify(received.raw, dnsfunc=dns)
        tampered = received.raw.replace(b"Hello", b"Hallo")
        assert not dkim.verify(tampered, dnsfunc=dns)


def test_421_and_451_are_retried_then_sent(db, sink):
    _fan_out(db, 2)
    replies = {1: "421 4.3.2 shutting down", 2: "451 4.3.0 try again later"}
    sink.respond = lambda n, envelope: replies.get(n)
    config = smtp_config(sink)
    run_lane(db, config, "bulk")
    with transaction(db.sessions) as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.state, r.attempts) for r in rows] == [("queued", 1), ("queued", 1)]
        assert rows[0].send_after == NOW + timedelta(minutes=1)
        assert "421" in rows[0].last_error and "451" in rows[1].last_error
    assert sink.received == []
    run_lane(db, config, "bulk", now=NOW + timedelta(seconds=30))  # not due yet
    assert sink.received == []
    run_lane(db, config, "bulk", now=NOW + timedelta(minutes=2))
    assert sorted(r.rcpt[0] for r in sink.received) == ["c0@example.com", "c1@example.com"]
    assert {state for state, _ in states(db).values()} == {"sent"}


def test_550_bounces_and_suppresses_even_transactional_mail(db, sink):
    _fan_out(db, 2)
    sink.respond = lambda n, envelope: (
        "550 5.1.1 user unknown" if envelope.rcpt_tos == ["c0@example.com"] else None
    )
    config = smtp_config(sink)
    run_lane(db, config, "bulk")
    with transaction(db.sessions) as s:
        suppression = s.get(Suppression, "c0@example.com")
        assert suppression.reason == "hard_bounce" and "550" in suppression.detail
        c0 = s.scalar(select(Customer).where(Customer.email == "c0@example.com"))
        t = template(s, kind="transactional", name="receipt")
        enqueue.enqueue_one(
            s,
            customer_id=c0.id,
            template_id=t.id,
            kind="transactional",
            source="api",
            source_id=t.id,
            now=NOW,
        )
    assert [state for state, _ in states(db).values()].count("sent") == 1
    before = sink.attempts
    run_lane(db, config, "transactional")
    assert sink.attempts == before  # never to a hard-bounced address, even transactional
    with transaction(db.sessions) as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == c0.id)).all()
        assert sorted((r.kind, r.state, r.reason) for r in rows) == [
            ("marketing", "bounced", "hard_bounce"),
            ("transactional", "skipped", "suppressed"),
        ]


def test_a_server_that_is_down_leaves_messages_queued_with_the_reason(db):
    _fan_out(db, 1)
    from tests.messages.conftest import Sink, free_port

    run_lane(db, smtp_config(Sink(port=free_port())), "bulk")
    with transaction(db.sessions) as s:
        [row] = s.scalars(select(OutboxMessage)).all()
    assert row.state == "queued" and row.attempts == 1
    assert row.last_error.startswith("cannot connect: ConnectionRefusedError")
