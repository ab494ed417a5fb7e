"""The webhook step (a signed POST to a real local receiver, once, retried with back-off) and the
notify step (a rendered team notification, mailed when configured)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from patron.db import transaction
from patron.journeys import effects, engine, service
from patron.journeys.definition import DefinitionError
from patron.journeys.tables import TeamNotification, WebhookCall
from patron.messages import service as messages
from patron.webhooks import rules as signing
from tests.journeys.conftest import T0, enrolments, journey, paths, person
from tests.webhooks.conftest import receiver, run_due_jobs  # noqa: F401 (the fixture)

SECRET = signing.format_secret(b"journeys-test-secret-bytes-0123")


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    monkeypatch.setenv(effects.SECRET_SETTING, SECRET)
    monkeypatch.setenv("PATRON_WEBHOOK_TIMEOUT_SECONDS", "5")


def _enrol_one(db, definition: dict) -> tuple[int, int]:
    j = journey(db, definition)
    with transaction(db.sessions) as s:
        c = person(s, "vip", first_name="Ada")
        service.enrol(session=s, journey_id=j, customer_id=c.id, now=T0)
    engine.run_due(db.sessions, now=T0)
    return j, c.id


def _webhook(url: str) -> dict:
    return {
        "trigger": {"type": "api"},
        "steps": [{"id": "hook", "type": "webhook", "url": url, "data": {"offer": "10%"}}],
    }


def _calls(db) -> list[WebhookCall]:
    with transaction(db.sessions) as s:
        rows = list(s.scalars(select(WebhookCall).order_by(WebhookCall.id)))
        s.expunge_all()
        return rows


def test_a_webhook_step_posts_once_signed_outside_the_step(db, receiver):  # noqa: F811
    j, customer_id = _enrol_one(db, _webhook(receiver.url + "/hook"))
    assert receiver.requests == []  # the step only queued the call
    assert paths(db, j)[0]["path"] == [("hook", 0, "queued")]
    run_due_jobs(db, T0)
    run_due_jobs(db, T0 + timedelta(minutes=5))
    [request] = receiver.to("/hook")
    [call] = _calls(db)
    assert (call.state, call.attempts, call.last_status_code) == ("succeeded", 1, 200)
    assert request.headers["webhook-id"] == call.key
    [e] = enrolments(db, j)
    assert call.key == f"{e.version_id}:hook:{e.id}:0"
    signing.verify(SECRET, request.headers, request.body, now=T0)
    body = json.loads(request.body)
    assert body["customer"]["id"] == customer_id and body["data"] == {"offer": "10%"}


def test_a_failing_receiver_is_retried_with_back_off_then_parked(db, receiver):  # noqa: F811
    receiver.respond = lambda n, r: (503 if n < 3 else 200, 0.0)
    _enrol_one(db, _webhook(receiver.url + "/flaky"))
    run_due_jobs(db, T0)
    [call] = _calls(db)
    assert (call.state, call.attempts, call.last_status_code) == ("pending", 1, 503)
    assert call.next_attempt_at > T0
    run_due_jobs(db, T0 + timedelta(seconds=1))  # not due yet: nothing sent
    assert len(receiver.to("/flaky")) == 1
    run_due_jobs(db, call.next_attempt_at)
    [call] = _calls(db)
    run_due_jobs(db, call.next_attempt_at)
    [call] = _calls(db)
    assert (call.state, call.attempts) == ("succeeded", 3)
    assert len(set(receiver.ids("/flaky"))) == 1 and len(receiver.to("/flaky")) == 3


def test_an_unreachable_receiver_ends_failed_with_the_reason(db):
    _enrol_one(db, _webhook("http://127.0.0.1:9/never"))
    at = T0
    for _ in range(20):
        run_due_jobs(db, at)
        [call] = _calls(db)
        if call.state != "pending":
            break
        at = call.next_attempt_at
    assert call.state == "failed" and call.last_error


def test_without_a_secret_the_step_fails_and_says_why(db, monkeypatch):
    monkeypatch.delenv(effects.SECRET_SETTING)
    j, _c = _enrol_one(db, _webhook("http://127.0.0.1:9/x"))
    [e] = enrolments(db, j)
    assert e.state == "active" and effects.SECRET_SETTING in e.last_error
    assert _calls(db) == []


def test_a_bad_webhook_url_is_refused_naming_the_step():
    with pytest.raises(DefinitionError) as caught:
        service.steps.parse(_webhook("ftp://example.com/x"))
    assert caught.value.step == "hook"


def _notify(email: bool) -> dict:
    line = "VIP at risk: {{ customer.email }}"
    return {
        "trigger": {"type": "api"},
        "steps": [{"id": "tell", "type": "notify", "line": line, "email": email}],
    }


def test_notify_stores_the_rendered_line(db, monkeypatch):
    monkeypatch.delenv(effects.EMAIL_SETTING, raising=False)
    j, customer_id = _enrol_one(db, _notify(email=True))
    with transaction(db.sessions) as s:
        [row] = effects.notifications(session=s)
        assert (row.line, row.customer_id, row.outbox_id) == (
            "VIP at risk: vip@example.com",
            customer_id,
            None,
        )
    assert paths(db, j)[0]["path"] == [("tell", 0, "notified")]


def test_notify_mails_the_team_when_configured(db, monkeypatch):
    monkeypatch.setenv(effects.EMAIL_SETTING, "team@example.com")
    _enrol_one(db, _notify(email=True))
    with transaction(db.sessions) as s:
        row = s.scalar(select(TeamNotification))
        mail = messages.get_message(session=s, outbox_id=row.outbox_id)
        assert (mail.address, mail.kind, mail.data) == (
            "team@example.com",
            "transactional",
            {"line": row.line},
        )


def test_a_notify_line_that_does_not_render_is_refused_at_save(db):
    bad = _notify(email=False)
    bad["steps"][0]["line"] = "VIP {{ customer.email "
    with transaction(db.sessions) as s, pytest.raises(DefinitionError) as caught:
        service.validate(session=s, definition=bad)
    assert caught.value.step == "tell"


def test_the_dashboard_lists_team_notifications(sqlite_db, monkeypatch):
    from fastapi.testclient import TestClient

    from patron.app import create_app
    from patron.auth import service as auth_service
    from tests.dashboard.conftest import EMAIL, PASSWORD, login

    monkeypatch.delenv(effects.EMAIL_SETTING, raising=False)
    _enrol_one(sqlite_db, _notify(email=False))
    with transaction(sqlite_db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=T0)
    with TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine)) as client:
        anonymous = client.get("/journeys/notifications", follow_redirects=False)
        assert anonymous.status_code in (302, 303, 401)
        assert login(client).status_code == 303
        page = client.get("/journeys/notifications")
        assert page.status_code == 200 and "VIP at risk: vip@example.com" in page.text


def test_a_post_of_unknown_outcome_is_uncertain_and_never_repeated(db, receiver, monkeypatch):  # noqa: F811
    from patron.webhooks import delivery

    real = delivery.post

    def dies_after_sending(outgoing, **kw):
        real(outgoing, **kw)
        raise ConnectionResetError("the worker lost the answer")

    monkeypatch.setattr(delivery, "post", dies_after_sending)
    _enrol_one(db, _webhook(receiver.url + "/once"))
    run_due_jobs(db, T0)
    run_due_jobs(db, T0 + timedelta(hours=1))
    [call] = _calls(db)
    assert call.state == "uncertain" and "lost the answer" in call.last_error
    assert len(receiver.to("/once")) == 1
