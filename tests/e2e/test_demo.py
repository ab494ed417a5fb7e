"""The demo path: `patron demo --no-serve`, then the server, then the dashboard in a browser."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.conftest import ROOT, VENV_BIN, log_in, server_env

pytestmark = pytest.mark.e2e


def test_demo_shop_shows_on_the_dashboard(tmp_path, start_server, page):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    loaded = subprocess.run(
        [str(VENV_BIN / "patron"), "demo", "--no-serve", "--customers", "300"],
        cwd=ROOT,
        env=server_env(url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert loaded.returncode == 0, loaded.stderr
    password = re.search(r"Password:\s+(\S+)", loaded.stdout).group(1)
    assert "admin@patron.local" in loaded.stdout and "pat_" in loaded.stdout

    base = start_server(url)
    log_in(page, base, "admin@patron.local", password)
    page.click("a.chip:has-text('Last 365 days')")
    page.wait_for_url("**/?preset=365")
    for tile in ("orders", "buyers", "new-buyers", "customers-total"):
        value = page.inner_text(f"[data-testid={tile}] .value").strip()
        assert int(value.replace(",", "")) > 0, tile
    assert page.inner_text("[data-testid=revenue] .value").startswith("$")
    assert page.locator(".chart svg").count() == 1

    page.click("nav a[href='/customers']")
    assert page.locator("table[data-testid=customers] tbody tr").count() == 50
    page.click("a[rel=next]")
    page.wait_for_url("**cursor=*")
    assert page.locator("table[data-testid=customers] tbody tr").count() == 50
