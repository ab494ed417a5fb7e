"""Fixtures of dashboard tests: an app client, a user, and a login helper."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction
from tests import factories

EMAIL, PASSWORD = "owner@example.com", "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a dashboard page."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture
def client(db):
    """A client of the app on the test database, with one dashboard user."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        yield client


def login(client: TestClient, email: str = EMAIL, password: str = PASSWORD):
    """Log in through the form, as a browser would; returns the response (not followed)."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
