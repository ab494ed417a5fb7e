"""Helpers of the survey tests: the link secret in the environment, customers, a survey."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.customers import service as customers
from patron.db import transaction
from patron.surveys import service
from tests import factories

SECRET = "test-secret-key"
NOW = factories.T0
QUESTIONS = [
    {"type": "nps"},
    {"id": "reason", "type": "text", "prompt": "What is the main reason for your score?"},
    {
        "id": "liked",
        "type": "multiple",
        "prompt": "What did you like?",
        "choices": ["price", "delivery", "quality"],
    },
]


@pytest.fixture(autouse=True)
def link_env(monkeypatch):
    """The secret the template context signs with, the public URL, a short recontact limit."""
    monkeypatch.setenv("PATRON_SECRET_KEY", SECRET)
    monkeypatch.setenv("PATRON_MESSAGES_PUBLIC_URL", "https://shop.example")
    monkeypatch.setenv("PATRON_SURVEYS_RECONTACT_DAYS", "30")


def person(s, n: int):
    """Customer c{n} with email consent."""
    c = factories.customer(s, f"c{n}", email=f"c{n}@example.com", first_name=f"Name{n}")
    customers.set_consent(
        session=s, customer=c, channel="email", status="granted", source="test", now=NOW
    )
    return c


def survey(db, name: str = "NPS", questions=None) -> int:
    """A survey's id."""
    with transaction(db.sessions) as s:
        return service.create_survey(
            session=s, name=name, questions=questions or QUESTIONS, now=NOW
        ).id


def client(db) -> TestClient:
    """An HTTP client of the app on this database."""
    return TestClient(create_app(db.settings(), engine=db.engine))
