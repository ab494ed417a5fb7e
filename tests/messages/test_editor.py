"""Template editor pages: list, save with errors at their field, preview, test send, layouts,
the sending settings page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.messages import authoring, rendering
from patron.messages.tables import CapturedMessage, OutboxMessage, Template
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.messages.conftest import NOW, customer
from tests.webhooks.conftest import run_due_jobs


@pytest.fixture
def page(db):
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=NOW)
        customer(s, 1, locale="fr")
        customer(s, 2, last_name="Zebra")
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        yield client


def _csrf(client, path="/messages/templates/new") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _fields(csrf, body, *, name="welcome", subject="Hi {{ customer.first_name }}", **extra):
    fields = {
        "csrf_token": csrf,
        "name": name,
        "channel": "email",
        "kind": "marketing",
        "topic": "",
        "layout_id": "",
        "variant_locale": [""],
        "variant_format": ["html"],
        "variant_subject": [subject],
        "variant_preheader": [""],
        "variant_body": [body],
        "variant_text": [""],
    }
    fields.update(extra)
    return fields


def test_saving_shows_unknown_variables_and_syntax_errors_next_to_the_field(db, page):
    csrf = _csrf(page)
    unknown = page.post("/messages/templates", data=_fields(csrf, "<p>{{ customer.frist }}</p>"))
    assert unknown.status_code == 422
    assert re.search(r'data-testid="error-v0_body"[^>]*>[^<]*frist', unknown.text)
    assert "customer.frist" in unknown.text  # the submitted body is kept in the form
    syntax = page.post(
        "/messages/templates", data=_fields(csrf, "<p>ok</p>", subject="x\n{% if %}")
    )
    assert syntax.status_code == 422
    assert re.search(r'data-testid="error-v0_subject"[^>]*>subject, line 2', syntax.text)
    french = _fields(
        csrf,
        "<p>Hi</p>",
        variant_locale=["", "fr"],
        variant_format=["html", "html"],
        variant_subject=["Hi", "Salut"],
        variant_preheader=["", ""],
        variant_body=["<p>Hi</p>", "<p>{{ nope }}</p>"],
        variant_text=["", ""],
    )
    bad_variant = page.post("/messages/templates", data=french)
    assert bad_variant.status_code == 422 and 'data-testid="error-v1_body"' in bad_variant.text
    with transaction(db.sessions) as s:
        assert s.scalars(select(Template)).all() == []


def test_saved_template_is_listed_and_editable_with_its_locale_variant(db, page):
    csrf = _csrf(page)
    fields = _fields(
        csrf,
        "<p>Hello {{ customer.first_name }}</p>",
        variant_locale=["", "fr", ""],
        variant_format=["html", "html", "html"],
        variant_subject=["Hi", "Salut", ""],
        variant_preheader=["", "", ""],
        variant_body=["<p>Hello</p>", "<p>Bonjour {{ customer.first_name }}</p>", ""],
        variant_text=["", "", ""],
    )
    saved = page.post("/messages/templates", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    editor = page.get(saved.headers["location"]).text
    assert "Bonjour {{ customer.first_name }}" in editor and 'value="fr"' in editor
    listing = page.get("/messages/templates").text
    assert "welcome" in listing and saved.headers["location"] in listing


def test_preview_renders_unsaved_fields_for_the_chosen_customer_and_locale(db, page):
    csrf = _csrf(page)
    with transaction(db.sessions) as s:
        layout = authoring.ensure_default_layout(session=s, now=NOW)
        second = s.scalar(select(OutboxMessage.id))  # none yet
        assert second is None
    found = page.get("/messages/customers", params={"q": "Zebra"}).json()
    assert [c["label"] for c in found] == ["Name2 Zebra c2@example.com"]
    fields = _fields(
        csrf,
        "<p>Hello <b>{{ customer.first_name }}</b></p>",
        layout_id=str(layout.id),
        customer_id=str(found[0]["id"]),
    )
    shown = page.post("/messages/preview", data=fields).json()
    assert shown["subject"] == "Hi Name2"
    assert "Hello <b>Name2</b>" in shown["html"] and "Unsubscribe" in shown["html"]
    assert "Hello **Name2**" in shown["text"]
    broken = page.post("/messages/preview", data=_fields(csrf, "{{ customer.nope }}")).json()
    assert broken["field"] == "v0_body" and "nope" in broken["error"]
    assert page.post("/messages/preview", data=_fields("forged", "x")).status_code == 403


def test_test_send_goes_through_the_transactional_lane_to_the_mailbox(db, page):
    csrf = _csrf(page)
    saved = page.post(
        "/messages/templates",
        data=_fields(csrf, "<p>Hello {{ customer.first_name }}</p>"),
        follow_redirects=False,
    )
    path = saved.headers["location"]
    sent = page.post(
        f"{path}/test", data={"csrf_token": csrf, "to": "me@shop.example"}, follow_redirects=False
    )
    assert sent.status_code == 303
    assert "queued to me@shop.example" in page.get(path).text
    bad = page.post(f"{path}/test", data={"csrf_token": csrf, "to": "nobody"})
    assert "Test not sent: to: give an email address" in bad.text
    run_due_jobs(db, utcnow())
    with transaction(db.sessions) as s:
        [mail] = s.scalars(select(CapturedMessage)).all()
        [row] = s.scalars(select(OutboxMessage)).all()
    assert mail.to_address == "me@shop.example" and mail.subject == "Hi Name1"
    assert (row.kind, row.state, row.address) == ("transactional", "sent", "me@shop.example")


def test_layouts_seed_the_default_and_refuse_one_without_content(db, page):
    listing = page.get("/messages/layouts").text
    assert "Default" in listing
    csrf = _csrf(page, "/messages/layouts/new")
    refused = page.post(
        "/messages/layouts", data={"csrf_token": csrf, "name": "Plain", "html": "<p>x</p>"}
    )
    assert refused.status_code == 422 and "{{ content }}" in refused.text
    made = page.post(
        "/messages/layouts",
        data={"csrf_token": csrf, "name": "Plain", "html": "<div>{{ content }}</div>"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "Plain" in page.get("/messages/layouts").text


def test_settings_page_shows_configuration_without_secrets(page, monkeypatch):
    monkeypatch.setenv("PATRON_MESSAGES_EMAIL_CHANNEL", "smtp")
    monkeypatch.setenv("PATRON_SMTP_HOST", "mail.example")
    monkeypatch.setenv("PATRON_SMTP_USERNAME", "user")
    monkeypatch.setenv("PATRON_SMTP_PASSWORD", "hunter2-secret")
    shown = page.get("/messages/settings").text
    assert "mail.example:587 (starttls, with login)" in shown
    assert "hunter2-secret" not in shown
    monkeypatch.setenv("PATRON_SMTP_PORT", "many")
    assert "PATRON_SMTP_PORT must be a number" in page.get("/messages/settings").text


def test_a_cached_compiled_template_still_renders_in_the_sandbox():
    escape = rendering.Source(subject="x", body="{{ ''.__class__.__mro__ }}")
    for _ in range(2):  # the second render reuses the compiled code
        with pytest.raises(rendering.RenderError, match="not allowed"):
            rendering.render(escape, {})
    greeting = rendering.Source(subject="Hi {{ n }}", body="<p>{{ n }}</p>")
    assert rendering.render(greeting, {"n": "<b>"}).html.count("&lt;b&gt;") == 1
    assert rendering.render(greeting, {"n": "<b>"}).subject == "Hi <b>"
