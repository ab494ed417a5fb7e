"""Fixtures of admin page tests: a logged-in administrator's client (dashboard fixtures)."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import client, csrf_of, login  # noqa: F401  (fixtures)


@pytest.fixture
def admin(client):  # noqa: F811
    """The client, logged in as the (administrator) dashboard user."""
    assert login(client).status_code == 303
    return client


def token_of(browser_client, path: str) -> str:
    """The CSRF token of a page."""
    return csrf_of(browser_client.get(path).text)
