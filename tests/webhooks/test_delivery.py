"""End to end on both databases: events become signed POSTs to a real receiver, retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from patron.db import transaction, utcnow
from patron.events import service as events
from patron.events.types import event
from patron.manifest import installed
from patron.webhooks import delivery, rules, service
from patron.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.events.test_service import pump_until_caught_up
from tests.webhooks.conftest import run_due_jobs


@pytest.fixture
def now() -> datetime:
    """Close to the real time, so that the receiver can check timestamps."""
    return utcnow().replace(microsecond=0)


def _endpoint(db, url: str, types: list[str], now: datetime) -> tuple[int, str]:
    with transaction(db.sessions) as s:
        e = service.create_endpoint(session=s, url=url, event_types=types, now=now)
        return e.id, e.secret


def _append(db, type_name: str, count: int, now: datetime, start: int = 0) -> None:
    with transaction(db.sessions) as s:
        events.append(
            s,
            [event(type_name, 100 + i, order=f"o{i}") for i in range(start, start + count)],
            now=now,
        )


def _pump(db, now: datetime) -> None:
    consumer = installed().consumers()[delivery.CONSUMER]
    pump_until_caught_up(db, {consumer.name: consumer}, now=now)


def _deliveries(db, endpoint_id: int) -> list[WebhookDelivery]:
    with transaction(db.sessions) as s:
        rows = s.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id)
        ).all()
        s.expunge_all()
        return list(rows)


def _verify_at_its_timestamp(secret: str, request) -> None:
    stamp = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
    rules.verify(secret, request.headers, request.body, now=stamp)


def test_subscribed_events_arrive_once_each_signed(db, receiver, now):
    endpoint_id, secret = _endpoint(db, f"{receiver.url}/orders", ["order.completed"], now)
    _append(db, "order.completed", 3, now)
    _append(db, "customer.created", 2, now)
    _pump(db, now)
    assert run_due_jobs(db, now) == 3
    got = receiver.to("/orders")
    assert len(got) == 3
    for request in got:
        rules.verify(secret, request.headers, request.body, now=utcnow())  # real clock
        assert request.headers["content-type"] == "application/json"
    bodies = [json.loads(r.body) for r in got]
    assert {b["type"] for b in bodies} == {"order.completed"}
    assert sorted(b["data"]["order"] for b in bodies) == ["o0", "o1", "o2"]
    assert sorted(b["customer_id"] for b in bodies) == [100, 101, 102]
    rows = _deliveries(db, endpoint_id)
    assert [r.state for r in rows] == ["succeeded"] * 3 and all(r.attempts == 1 for r in rows)
    assert sorted(receiver.ids()) == sorted(r.delivery_id for r in rows)
    _pump(db, now)  # nothing new: no second delivery of the same events
    assert run_due_jobs(db, now) == 0 and len(receiver.requests) == 3


def test_a_500_then_200_sends_the_same_webhook_id_twice(db, receiver, now):
    receiver.respond = lambda n, r: (500, 0) if n == 1 else (200, 0)
    endpoint_id, secret = _endpoint(db, f"{receiver.url}/flaky", ["order.completed"], now)
    _append(db, "order.completed", 1, now)
    _pump(db, now)
    run_due_jobs(db, now)
    [row] = _deliveries(db, endpoint_id)
    assert row.state == "pending" and row.attempts == 1 and row.last_status_code == 500
    assert row.next_attempt_at == now + timedelta(seconds=30)
    run_due_jobs(db, now + timedelta(seconds=29))
    assert len(receiver.requests) == 1  # not before the back-off
    run_due_jobs(db, now + timedelta(seconds=30))
    first, second = receiver.to("/flaky")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row.delivery_id
    assert first.body == second.body
    assert int(second.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 30
    for request in (first, second):
        _verify_at_its_timestamp(secret, request)
    [row] = _deliveries(db, endpoint_id)
    assert row.state == "succeeded" and row.attempts == 2 and row.delivered_at is not None
    with transaction(db.sessions) as s:
        attempts = service.list_attempts(session=s, delivery_id=row.id)
        assert [a.status_code for a in attempts] == [500, 200]
        assert attempts[0].error == "HTTP 500" and attempts[1].error is None
        assert attempts[1].response_snippet == "answer 200"
        assert s.get(WebhookEndpoint, endpoint_id).consecutive_failures == 0


def test_a_timeout_is_a_failed_attempt(db, receiver, now, monkeypatch):
    monkeypatch.setenv("PATRON_WEBHOOK_TIMEOUT_SECONDS", "0.3")
    receiver.respond = lambda n, r: (200, 1.0)
    endpoint_id, _ = _endpoint(db, f"{receiver.url}/slow", ["order.completed"], now)
    _append(db, "order.completed", 1, now)
    _pump(db, now)
    run_due_jobs(db, now)
    [row] = _deliveries(db, endpoint_id)
    assert row.state == "pending" and row.attempts == 1 and row.last_status_code is None
    assert "timed out" in row.last_error
    with transaction(db.sessions) as s:
        [attempt] = s.scalars(select(WebhookAttempt)).all()
        assert attempt.status_code is None and 300 <= attempt.duration_ms < 1000
        assert s.get(WebhookEndpoint, endpoint_id).consecutive_failures == 1


def test_a_refused_connection_is_a_failed_attempt(db, now):
    endpoint_id, _ = _endpoint(db, "http://127.0.0.1:9/nothing-listens", ["order.completed"], now)
    _append(db, "order.completed", 1, now)
    _pump(db, now)
    run_due_jobs(db, now)
    [row] = _deliveries(db, endpoint_id)
    assert row.state == "pending" and "ConnectError" in row.last_error


def test_a_failing_endpoint_is_disabled_while_a_healthy_one_gets_everything(
    db, receiver, now, monkeypatch
):
    monkeypatch.setenv("PATRON_WEBHOOK_DISABLE_AFTER_FAILURES", "6")
    monkeypatch.setenv("PATRON_WEBHOOK_DISABLE_AFTER_HOURS", "0.5")
    receiver.respond = lambda n, r: (500, 0) if r.path == "/bad" else (200, 0)
    bad, _ = _endpoint(db, f"{receiver.url}/bad", ["order.completed"], now)
    good, _ = _endpoint(db, f"{receiver.url}/good", ["order.completed"], now)
    steps = [0, 30, 150, 750, 4350]  # seconds: the first retries of the back-off schedule
    for n, offset in enumerate(steps):
        moment = now + timedelta(seconds=offset)
        _append(db, "order.completed", 2, moment, start=2 * n)
        _pump(db, moment)
        run_due_jobs(db, moment)
        with transaction(db.sessions) as s:
            endpoint = s.get(WebhookEndpoint, bad)
            assert endpoint.enabled == (offset < 1800), f"at +{offset} s"
    good_orders = sorted(json.loads(r.body)["data"]["order"] for r in receiver.to("/good"))
    assert good_orders == sorted(f"o{i}" for i in range(2 * len(steps)))
    with transaction(db.sessions) as s:
        endpoint = s.get(WebhookEndpoint, bad)
        assert "failed attempts in a row" in endpoint.disabled_reason
        assert endpoint.disabled_at == now + timedelta(seconds=4350)
    assert {r.state for r in _deliveries(db, bad)} == {"failed"}
    assert {(r.state, r.attempts) for r in _deliveries(db, good)} == {("succeeded", 1)}
    assert all("endpoint disabled" in r.last_error for r in _deliveries(db, bad))
    sent_to_bad = len(receiver.to("/bad"))
    later = now + timedelta(hours=3)
    _append(db, "order.completed", 1, later, start=99)
    _pump(db, later)
    run_due_jobs(db, later)
    assert len(receiver.to("/bad")) == sent_to_bad  # nothing more for the disabled endpoint
    assert len(receiver.to("/good")) == 2 * len(steps) + 1
    with transaction(db.sessions) as s:
        service.enable_endpoint(session=s, endpoint_id=bad, now=later)
        endpoint = s.get(WebhookEndpoint, bad)
        assert endpoint.consecutive_failures == 0 and endpoint.disabled_reason is None


def test_410_gone_disables_at_once(db, receiver, now):
    receiver.respond = lambda n, r: (410, 0)
    endpoint_id, _ = _endpoint(db, f"{receiver.url}/gone", ["order.completed"], now)
    _append(db, "order.completed", 3, now)
    _pump(db, now)
    run_due_jobs(db, now)
    assert len(receiver.requests) == 1  # the other two stopped once it was disabled
    with transaction(db.sessions) as s:
        endpoint = s.get(WebhookEndpoint, endpoint_id)
        assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert {r.state for r in _deliveries(db, endpoint_id)} == {"failed"}


def test_redeliver_and_test_ping_reuse_the_webhook_id(db, receiver, now):
    endpoint_id, secret = _endpoint(db, f"{receiver.url}/r", ["order.completed"], now)
    _append(db, "order.completed", 1, now)
    _pump(db, now)
    run_due_jobs(db, now)
    [row] = _deliveries(db, endpoint_id)
    later = now + timedelta(minutes=5)
    with transaction(db.sessions) as s:
        service.redeliver(session=s, delivery_id=row.id, now=later)
        ping = service.send_test(session=s, endpoint_id=endpoint_id, now=later)
        ping_id = ping.delivery_id
    run_due_jobs(db, later)
    ids = receiver.ids("/r")
    assert ids.count(row.delivery_id) == 2 and ids.count(ping_id) == 1
    [ping_request] = [r for r in receiver.requests if r.headers["webhook-id"] == ping_id]
    assert json.loads(ping_request.body)["type"] == "webhook.test"
    _verify_at_its_timestamp(secret, ping_request)
    [row, ping_row] = _deliveries(db, endpoint_id)
    assert row.state == "succeeded" and row.attempts == 2 and ping_row.state == "succeeded"


def test_events_before_an_endpoint_existed_are_not_sent_to_it(db, receiver, now):
    _append(db, "order.completed", 1, now - timedelta(minutes=1))
    _endpoint(db, f"{receiver.url}/late", ["order.completed"], now)
    _pump(db, now)
    assert run_due_jobs(db, now) == 0 and receiver.requests == []


def test_a_rotated_secret_signs_the_next_attempts(db, receiver, now):
    endpoint_id, old = _endpoint(db, f"{receiver.url}/rot", ["order.completed"], now)
    with transaction(db.sessions) as s:
        new = service.rotate_secret(session=s, endpoint_id=endpoint_id, now=now).secret
    assert new != old and new.startswith("whsec_")
    _append(db, "order.completed", 1, now)
    _pump(db, now)
    run_due_jobs(db, now)
    [request] = receiver.requests
    _verify_at_its_timestamp(new, request)
    with pytest.raises(rules.InvalidSignature):
        _verify_at_its_timestamp(old, request)
