"""End-to-end helpers; the server and browser fixtures come from tests/live.py."""

from __future__ import annotations

from tests.live import ROOT, VENV_BIN, server_env

__all__ = ["ROOT", "VENV_BIN", "log_in", "server_env"]


def log_in(page, base: str, email: str, password: str) -> None:
    """Open the dashboard, get sent to the login form, and log in."""
    page.goto(f"{base}/")
    page.wait_for_selector("input[name=email]")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("[data-testid=orders]")
