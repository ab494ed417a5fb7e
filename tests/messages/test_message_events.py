"""Messages append their own domain events in the transaction that records the change: sent,
bounced (SMTP 550 and a provider's notice), skipped with a reason, uncertain, human clicks;
webhook endpoints can subscribe to them."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers.tables import Customer
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.messages import bounces, enqueue, inbound, links, outbox, tracking
from patron.messages import events as message_events
from patron.messages.config import MessageConfig
from patron.messages.tables import OutboxMessage
from tests.messages.conftest import NOW, SECRET, customer, run_lane, smtp_config, template

CAPTURE = MessageConfig(secret_key=SECRET)


def _logged(db, *types: str) -> list:
    with transaction(db.sessions) as s:
        return events.read_after(s, 0, types=types or message_events.EVENT_TYPES, limit=1000)


def _fan_out(db, consents: list[str | None]) -> list[int]:
    with transaction(db.sessions) as s:
        ids = [customer(s, n, consent=c).id for n, c in enumerate(consents)]
        t = template(s)
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=7, now=NOW
        )
    return ids


def _rows(db) -> dict[int, OutboxMessage]:
    with transaction(db.sessions) as s:
        rows = {r.customer_id: r for r in s.scalars(select(OutboxMessage))}
        s.expunge_all()
        return rows


def test_a_sent_message_yields_one_sent_event_and_a_skipped_one_its_reason(db):
    sent_to, denied = _fan_out(db, ["granted", "denied"])
    run_lane(db, CAPTURE, "bulk")
    run_lane(db, CAPTURE, "bulk")  # nothing left: no second event
    rows = _rows(db)
    logged = _logged(db)
    assert sorted(e.type for e in logged) == ["message.sent", "message.skipped"]
    sent = next(e for e in logged if e.type == "message.sent")
    row = rows[sent_to]
    assert sent.customer_id == sent_to
    assert sent.data == {
        "outbox_id": row.id,
        "source": "broadcast",
        "source_id": 7,
        "template_id": row.template_id,
        "channel": "email",
        "kind": "marketing",
        "message_id": row.message_id,
    }
    skipped = next(e for e in logged if e.type == "message.skipped")
    assert skipped.customer_id == denied
    assert skipped.data["outbox_id"] == rows[denied].id and skipped.data["reason"] == "consent"


def test_an_smtp_550_and_a_providers_hard_bounce_yield_message_bounced(db, sink):
    a, b = _fan_out(db, ["granted", "granted"])
    sink.respond = lambda n, envelope: (
        "550 5.1.1 user unknown" if envelope.rcpt_tos == ["c0@example.com"] else None
    )
    run_lane(db, smtp_config(sink), "bulk")
    rows = _rows(db)
    by_type = {(e.type, e.data["outbox_id"]) for e in _logged(db)}
    assert by_type == {("message.bounced", rows[a].id), ("message.sent", rows[b].id)}
    notice = bounces.Notice("bounce", "c1@example.com", message_id=rows[b].message_id, hard=True)
    with transaction(db.sessions) as s:
        inbound.apply(s, bounces.Parsed((notice,)), now=NOW + timedelta(hours=1))
    bounced = _logged(db, "message.bounced")
    assert [(e.data["outbox_id"], e.data["reason"]) for e in bounced] == [
        (rows[a].id, "hard_bounce"),
        (rows[b].id, "hard_bounce"),
    ]


def test_a_lease_running_out_mid_attempt_yields_message_uncertain(db):
    (c,) = _fan_out(db, ["granted"])
    with transaction(db.sessions) as s:
        [row] = outbox.claim(s, worker="w", now=NOW, lease_seconds=10, limit=5, kind="marketing")
        outbox.start_attempt(s, outbox_id=row.id, worker="w", now=NOW)
    with transaction(db.sessions) as s:
        later = NOW + timedelta(minutes=1)
        assert outbox.expire_leases(s, now=later, policy="never_resend")["uncertain"] == 1
        assert outbox.expire_leases(s, now=later, policy="never_resend")["uncertain"] == 0
    [event] = _logged(db)
    assert (event.type, event.customer_id, event.data["outbox_id"]) == (
        "message.uncertain",
        c,
        row.id,
    )


def test_human_clicks_are_events_and_bot_clicks_are_not(db):
    _fan_out(db, ["granted"])
    run_lane(db, CAPTURE, "bulk")
    row = next(iter(_rows(db).values()))
    token = links.click_url("", SECRET, outbox_id=row.id, url="https://shop.example/x")
    token = token.rsplit("/", 1)[1]
    human = NOW + timedelta(minutes=5)
    with transaction(db.sessions) as s:
        tracking.click(s, secret=SECRET, token=token, user_agent="Mozilla/5.0", now=human)
        tracking.click(s, secret=SECRET, token=token, user_agent="Barracuda Sentinel", now=human)
    clicks = _logged(db, "message.clicked")
    assert [(e.data["outbox_id"], e.data["url"]) for e in clicks] == [
        (row.id, "https://shop.example/x")
    ]


def test_webhook_endpoints_can_subscribe_to_message_events(db):
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="admin", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    headers = {"Authorization": f"Bearer {key}"}
    types = client.get("/api/webhooks/event-types", headers=headers).json()["event_types"]
    assert set(message_events.EVENT_TYPES) <= set(types)
    created = client.post(
        "/api/webhooks/endpoints",
        json={
            "url": "https://hooks.example/in",
            "event_types": ["message.sent", "message.bounced"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert sorted(created.json()["event_types"]) == ["message.bounced", "message.sent"]
