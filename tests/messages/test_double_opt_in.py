"""Double opt-in end to end (API grant -> pending -> confirmation mail -> GET page -> POST ->
granted -> marketing goes), tampered and expired links, trusted sources; and the
`preferences_url` variable opening the customer's own preference centre."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service as customers
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.messages import enqueue, optin, preferences, service
from patron.messages.config import MessageConfig
from patron.messages.manifest import manifest
from patron.messages.tables import CapturedMessage, OutboxMessage
from tests.factories import tampered as tamper
from tests.messages.conftest import SECRET, customer, run_lane, states, template

CAPTURE = MessageConfig(secret_key=SECRET, public_url="https://shop.example")
CONSUMERS = {c.name: c for c in manifest.consumers if c.name == optin.CONSUMER}


@pytest.fixture
def api(db, monkeypatch):
    monkeypatch.setenv("PATRON_MESSAGES_DOUBLE_OPT_IN", "true")
    monkeypatch.setenv("PATRON_MESSAGES_PUBLIC_URL", "https://shop.example")
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="read,write", now=utcnow())[1]
    client = TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))
    return client, {"Authorization": f"Bearer {key}"}


def _email_consent(db, customer_id: int) -> tuple[str, str]:
    with transaction(db.sessions) as s:
        found = customers.get_customer(session=s, customer_id=customer_id)
        row = next(c for c in found.consents if c.channel == "email")
        return row.status, row.source


def _captured(db) -> list[CapturedMessage]:
    with transaction(db.sessions) as s:
        rows = list(s.scalars(select(CapturedMessage).order_by(CapturedMessage.id)))
        s.expunge_all()
        return rows


def _path_of(html: str, prefix: str) -> str:
    """The path of the one link of the HTML under https://shop.example{prefix}."""
    found = re.findall(rf'href="https://shop\.example({re.escape(prefix)}[^"]+)"', html)
    assert len(found) == 1, found
    return found[0]


def test_api_grant_waits_for_confirmation_then_marketing_goes(db, api):
    client, headers = api
    body = {
        "external_id": "x1",
        "email": "x1@example.com",
        "consent": {"email": {"status": "granted"}},
    }
    created = client.post("/api/customers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["consent"]["email"]["status"] == "pending"
    assert _email_consent(db, cid)[0] == "pending"

    now = utcnow()
    with transaction(db.sessions) as s:  # pending is not consent: marketing is skipped
        news = template(s, name="news")
        enqueue.enqueue_one(
            s, customer_id=cid, template_id=news.id, kind="marketing", source="broadcast",
            source_id=1, now=now,
        )  # fmt: skip
    run_lane(db, CAPTURE, "bulk", now=now)
    assert states(db)[cid] == ("skipped", "consent")

    assert events.pump(db.sessions, CONSUMERS, now=now) >= 1
    assert events.pump(db.sessions, CONSUMERS, now=now) == 0  # handled once
    run_lane(db, CAPTURE, "transactional", now=now)
    mails = _captured(db)
    assert [m.to_address for m in mails] == ["x1@example.com"]
    assert mails[0].subject == optin.CONFIRM_SUBJECT
    path = _path_of(mails[0].html, "/confirm/")

    page = client.get(path)  # a link scanner fetching the link confirms nothing
    assert page.status_code == 200 and 'action="/confirm/' in page.text
    assert _email_consent(db, cid)[0] == "pending"
    done = client.post(path)
    assert done.status_code == 200 and "confirmed" in done.text
    status, source = _email_consent(db, cid)
    assert (status, source) == ("granted", "double_opt_in")
    assert client.post(path).text.count("nothing to confirm") == 1  # a second POST: no change

    with transaction(db.sessions) as s:
        enqueue.enqueue_one(
            s, customer_id=cid, template_id=news.id, kind="marketing", source="broadcast",
            source_id=2, now=now,
        )  # fmt: skip
    run_lane(db, CAPTURE, "bulk", now=now + timedelta(seconds=1))
    with transaction(db.sessions) as s:
        second = s.scalar(select(OutboxMessage.state).where(OutboxMessage.source_id == 2))
    assert second == "sent"
    with transaction(db.sessions) as s:
        kinds = [
            e.data["status"] for e in events.read_after(s, 0, types=["consent.changed"], limit=9)
        ]
    assert kinds == ["pending", "granted"]


def test_tampered_or_expired_confirmation_links_answer_400_and_record_nothing(db, api):
    client, _ = api
    with transaction(db.sessions) as s:
        c = customer(s, 1, consent="granted")  # source "test": needs confirming
        cid = c.id
    assert _email_consent(db, cid)[0] == "pending"
    token = optin.confirm_token(SECRET, customer_id=cid, now=utcnow())
    tampered = f"/confirm/{tamper(token)}"
    expired = optin.confirm_token(SECRET, customer_id=cid, now=utcnow() - timedelta(days=8))
    other = preferences.preferences_token(SECRET, customer_id=cid)
    for bad in (tampered, f"/confirm/{expired}", f"/confirm/{other}"):
        assert client.get(bad).status_code == 400
        assert client.post(bad).status_code == 400
    assert _email_consent(db, cid)[0] == "pending"
    assert client.post(f"/confirm/{token}").status_code == 200
    assert _email_consent(db, cid)[0] == "granted"


def test_confirmed_sources_and_changes_other_than_grants_skip_the_confirmation(db, api):
    with transaction(db.sessions) as s:
        a = customer(s, 1, consent=None)
        customers.set_consent(
            session=s, customer=a, channel="email", status="granted",
            source="import_confirmed", now=utcnow(),
        )  # fmt: skip
        b = customer(s, 2, consent="unsubscribed")
        d = customer(s, 3, consent=None)
        customers.set_consent(
            session=s, customer=d, channel="sms", status="granted", source="api", now=utcnow()
        )
        ids = a.id, b.id
    assert _email_consent(db, ids[0])[0] == "granted"
    assert _email_consent(db, ids[1])[0] == "unsubscribed"
    events.pump(db.sessions, CONSUMERS, now=utcnow())
    with transaction(db.sessions) as s:
        assert (
            s.scalar(select(OutboxMessage.id).where(OutboxMessage.source == "double_opt_in"))
            is None
        )


def test_without_the_setting_a_grant_is_granted_at_once(db):
    with transaction(db.sessions) as s:
        cid = customer(s, 1).id
    assert _email_consent(db, cid)[0] == "granted"


def test_preferences_url_opens_that_customers_preference_centre(db):
    with transaction(db.sessions) as s:
        preferences.seed_topics(s)
        a, b = customer(s, 1), customer(s, 2)
        preferences.save(
            session=s, customer_id=a.id, email_consent=True, topics=["events"], now=utcnow()
        )
        body = "<p>Hi</p><a href='{{ preferences_url }}'>Preferences</a>"
        t = template(s, kind="transactional", body=body)
        for c in (a, b):
            enqueue.enqueue_one(
                s, customer_id=c.id, template_id=t.id, kind="transactional", source="api",
                source_id=t.id, occurrence=str(c.id), now=utcnow(),
            )  # fmt: skip
    run_lane(db, CAPTURE, "transactional", now=utcnow())
    client = TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))
    pages = {}
    for mail in _captured(db):
        page = client.get(_path_of(mail.html, "/p/"))
        assert page.status_code == 200
        pages[mail.to_address] = page.text
    assert 'value="events" checked' in pages["c1@example.com"]
    assert 'value="events" checked' not in pages["c2@example.com"]


def test_the_confirmation_template_is_built_in_and_editable(db, api):
    with transaction(db.sessions) as s:
        template_id = optin.ensure_template(s, now=utcnow())
        assert optin.ensure_template(s, now=utcnow()) == template_id  # created once
        edited = service.TemplateInput(
            name=optin.CONFIRM_TEMPLATE,
            kind="transactional",
            variants=[
                service.VariantInput(
                    subject="One click to go",
                    body="<a href='{{ data.confirm_url }}'>Yes, {{ customer.first_name }}</a>",
                )
            ],
        )
        service.update_template(session=s, template_id=template_id, data=edited, now=utcnow())
        customer(s, 1)  # pending: its grant needs confirming
    events.pump(db.sessions, CONSUMERS, now=utcnow())
    run_lane(db, CAPTURE, "transactional", now=utcnow())
    [mail] = _captured(db)
    assert mail.subject == "One click to go" and "Yes, Name1" in mail.html
    assert _path_of(mail.html, "/confirm/").startswith("/confirm/")
