"""Fixtures of gatherings: links signed with the test key and pointing at the test client."""

from __future__ import annotations

import pytest

SECRET = "test-secret-key"  # what tests/conftest.py's Database.settings() gives the app
BASE = "http://testserver"


@pytest.fixture(autouse=True)
def link_settings(monkeypatch):
    """The secret and public URL the message context signs links with."""
    monkeypatch.setenv("PATRON_SECRET_KEY", SECRET)
    monkeypatch.setenv("PATRON_MESSAGES_PUBLIC_URL", BASE)
