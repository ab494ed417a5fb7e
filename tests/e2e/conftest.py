"""End-to-end helpers; the server and browser fixtures come from tests/live.py."""

from __future__ import annotations

from tests import live
from tests.live import ROOT, VENV_BIN, server_env

__all__ = ["ROOT", "VENV_BIN", "log_in", "server_env"]


def log_in(page, base: str, email: str, password: str) -> None:
    """Open the dashboard, get sent to the login form, and log in."""
    live.log_in(page, f"{base}/", email, password)
    page.wait_for_selector("[data-testid=orders]")
