"""Subscription topics and the preference centre: saving, consent through customers, and a
template's topic respected at send time (skipped with reason topic)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.customers import service as customers
from patron.customers.tables import Customer
from patron.db import transaction
from patron.messages import enqueue, preferences, rules
from patron.messages.config import MessageConfig
from patron.messages.tables import Template, TopicChoice
from tests.factories import tampered as tamper
from tests.messages.conftest import NOW, SECRET, customer, run_lane, states, template


@pytest.fixture(autouse=True)
def topics(db):
    """The default topics (PostgreSQL tests truncate what migration 0520 seeded)."""
    with transaction(db.sessions) as s:
        seeded = preferences.seed_topics(s)
    if db.backend == "sqlite":
        assert seeded == 0  # a freshly migrated database has them from the migration


def _client(db) -> TestClient:
    return TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))


def test_topics_are_seeded_with_their_defaults(db):
    with transaction(db.sessions) as s:
        assert preferences.seed_topics(s) == 0
        topics = {t.key: t.opt_in for t in preferences.list_topics(s)}
    assert topics == {"newsletter": False, "offers": False, "events": True, "product_news": True}


def test_preference_centre_shows_and_saves_choices_and_consent(db):
    with transaction(db.sessions) as s:
        c = customer(s, 1)
    token = preferences.preferences_token(SECRET, customer_id=c.id)
    client = _client(db)
    page = client.get(f"/p/{token}")
    assert page.status_code == 200
    assert 'value="newsletter" checked' in page.text and 'value="events" checked' not in page.text
    saved = client.post(f"/p/{token}", data={"email": "1", "topic": ["events", "offers"]})
    assert saved.status_code == 200 and "saved" in saved.text
    with transaction(db.sessions) as s:
        choices = dict(s.execute(select(TopicChoice.topic, TopicChoice.subscribed)).all())
        assert choices == {
            "newsletter": False,
            "offers": True,
            "events": True,
            "product_news": False,
        }
    client.post(f"/p/{token}", data={"topic": ["events"]})  # email box unticked
    with transaction(db.sessions) as s:
        found = customers.get_customer(session=s, customer_id=c.id)
        assert customers.consent_status(found, "email") == "unsubscribed"
    tampered = client.post(f"/p/{tamper(token)}", data={"email": "1", "topic": ["offers"]})
    assert tampered.status_code == 400
    other_purpose = rules.sign(SECRET, "unsubscribe", {"c": c.id})
    assert client.get(f"/p/{other_purpose}").status_code == 400
    with transaction(db.sessions) as s:
        assert s.get(TopicChoice, (c.id, "offers")).subscribed is False
        found = customers.get_customer(session=s, customer_id=c.id)
        assert customers.consent_status(found, "email") == "unsubscribed"


def test_a_templates_topic_is_respected_at_send_time(db):
    with transaction(db.sessions) as s:
        a, b, c = customer(s, 1), customer(s, 2), customer(s, 3)
        preferences.save(session=s, customer_id=a.id, email_consent=True, topics=[], now=NOW)
        preferences.save(
            session=s, customer_id=b.id, email_consent=True, topics=["events"], now=NOW
        )
        t = template(s)
        s.get(Template, t.id).topic = "events"  # opt-in: only b chose it
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=1, now=NOW
        )
    run_lane(db, MessageConfig(secret_key=SECRET), "bulk")
    assert states(db) == {
        a.id: ("skipped", "topic"),
        b.id: ("sent", None),
        c.id: ("skipped", "topic"),
    }
