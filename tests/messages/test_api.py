"""Templates validated at save, POST /api/messages with Idempotency-Key, one-click unsubscribe,
the customer's message log and the capture mailbox pages."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service as customers
from patron.db import transaction, utcnow
from patron.messages import links, service
from patron.messages.tables import CapturedMessage, OutboxMessage
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.factories import tampered as tamper
from tests.messages.conftest import NOW, SECRET, customer
from tests.webhooks.conftest import run_due_jobs


@pytest.fixture
def api(db):
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="read,write", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    return client, {"Authorization": f"Bearer {key}"}


def _template(client, headers, body, *, name="t", kind="transactional", variants=None):
    variants = variants or [{"subject": "Hi {{ customer.first_name }}", "body": body}]
    return client.post(
        "/api/templates",
        json={"name": name, "kind": kind, "variants": variants},
        headers=headers,
    )


def test_saving_refuses_unknown_variables_syntax_errors_and_sandbox_escapes(db, api):
    client, headers = api
    with transaction(db.sessions) as s:
        customer(s, 1)
    unknown = _template(client, headers, "<p>{{ customer.frist_name }}</p>")
    assert unknown.status_code == 422 and "frist_name" in unknown.text
    syntax = _template(client, headers, "<p>ok</p>\n<p>{% if %}</p>")
    assert syntax.status_code == 422 and "line 2" in syntax.text
    for escape in (
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ customer.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ (orders|attr('__class__')) }}",
    ):
        refused = _template(client, headers, escape)
        assert refused.status_code == 422, escape
    good = _template(
        client,
        headers,
        "<p>{{ customer.first_name }}: {% for o in orders %}{{ o.total_cents }}{% endfor %}"
        " {{ data.order.number }} {{ scores.rfm_segment }}</p>",
    )
    assert good.status_code == 201, good.text
    assert client.get(f"/api/templates/{good.json()['id']}", headers=headers).json()["name"] == "t"


def test_locale_variants_fall_back_to_language_then_default(db):
    with transaction(db.sessions) as s:
        fr = customer(s, 1, locale="fr-CA")
        de = customer(s, 2, locale="de")
        t = service.create_template(
            session=s,
            data=service.TemplateInput(
                name="hello",
                variants=[
                    service.VariantInput(subject="Hello", body="<p>Hello</p>"),
                    service.VariantInput(locale="fr", subject="Bonjour", body="<p>Bonjour</p>"),
                ],
            ),
            now=NOW,
        )
        assert service.render_for(session=s, template_id=t.id, customer_id=fr.id).subject == (
            "Bonjour"
        )
        assert service.render_for(session=s, template_id=t.id, customer_id=de.id).subject == (
            "Hello"
        )


def test_post_messages_with_the_same_idempotency_key_sends_once(db, api):
    client, headers = api
    with transaction(db.sessions) as s:
        c = customer(s, 1, consent=None)
        other = customer(s, 2)
    tid = _template(client, headers, "<p>Order {{ data.number }} for {{ customer.name }}</p>")
    tid = tid.json()["id"]
    body = {"template_id": tid, "customer_id": c.id, "data": {"number": "A-17"}}
    keyed = {**headers, "Idempotency-Key": "order-A-17"}
    first = client.post("/api/messages", json=body, headers=keyed)
    second = client.post("/api/messages", json=body, headers=keyed)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and first.json()["kind"] == "transactional"
    assert second.headers["idempotent-replayed"] == "true"
    reused = client.post("/api/messages", json={**body, "customer_id": other.id}, headers=keyed)
    assert reused.status_code == 409
    assert (
        client.post("/api/messages", json={**body, "template_id": 999}, headers=headers).status_code
        == 404
    )
    assert run_due_jobs(db, utcnow()) >= 1
    with transaction(db.sessions) as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1
        [mail] = s.scalars(select(CapturedMessage)).all()
    assert "Order A-17 for Name1" in mail.html and mail.to_address == "c1@example.com"
    got = client.get(f"/api/messages/{first.json()['id']}", headers=headers).json()
    assert got["state"] == "sent" and got["message_id"] == mail.headers["Message-ID"]
    log = client.get(f"/api/customers/{c.id}/messages", headers=headers).json()
    assert [m["id"] for m in log["items"]] == [first.json()["id"]]
    assert client.get("/api/customers/999/messages", headers=headers).status_code == 404


def test_one_click_unsubscribe_is_a_bare_post_without_cookie_or_csrf(db):
    with transaction(db.sessions) as s:
        c = customer(s, 1)
    token = links.unsubscribe_token(SECRET, customer_id=c.id, outbox_id=7)
    client = TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and 'method="post"' in page.text
    tampered = client.post(f"/u/{tamper(token)}", data={"List-Unsubscribe": "One-Click"})
    assert tampered.status_code == 400
    with transaction(db.sessions) as s:
        assert (
            customers.consent_status(customers.get_customer(session=s, customer_id=c.id), "email")
            == "granted"
        )
    bare = TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))
    done = bare.post(
        f"/u/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "set-cookie" not in done.headers
    with transaction(db.sessions) as s:
        found = customers.get_customer(session=s, customer_id=c.id)
        assert customers.consent_status(found, "email") == "unsubscribed"


def test_mailbox_lists_captured_mail_and_shows_html_in_a_sandboxed_frame(db, api):
    client, headers = api
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=NOW)
        c = customer(s, 1)
    tid = _template(client, headers, '<p class="x">Hi <b>{{ customer.first_name }}</b></p>').json()[
        "id"
    ]
    client.post("/api/messages", json={"template_id": tid, "customer_id": c.id}, headers=headers)
    run_due_jobs(db, utcnow())
    with TestClient(create_app(db.settings(), engine=db.engine)) as page:
        assert login(page).status_code == 303
        listing = page.get("/messages/mailbox")
        assert listing.status_code == 200 and 'href="/messages/mailbox"' in listing.text
        with transaction(db.sessions) as s:
            [mail] = s.scalars(select(CapturedMessage)).all()
        assert f"/messages/mailbox/{mail.id}" in listing.text and "Hi Name1" in listing.text
        shown = page.get(f"/messages/mailbox/{mail.id}").text
        assert 'sandbox=""' in shown and "srcdoc=" in shown
        assert "&lt;b&gt;Name1&lt;/b&gt;" in shown  # the HTML is escaped into srcdoc, not inlined
        assert "Message-ID" in shown and "Hi **Name1**" in shown
        assert page.get("/messages/mailbox/999").status_code == 404
