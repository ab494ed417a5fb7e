"""Fixtures of auth tests: the dashboard's client with one user."""

from tests.dashboard.conftest import client  # noqa: F401  (fixture)
