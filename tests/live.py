"""Live fixtures shared by browser and protocol tests: a real server process, Debian Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SECRET = "e2e-secret-key"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    """Environment of a Patron process pointed at database_url."""
    return {
        **os.environ,
        "PATRON_DATABASE_URL": database_url,
        "PATRON_SECRET_KEY": SECRET,
        "PATRON_LOG_LEVEL": "warning",
    }


def _wait_until_up(process: subprocess.Popen, base: str, log: Path) -> None:
    """Poll the login page until it answers, failing fast when the server died."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer within 60s:\n{log.read_text()}")


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[[str], str]]:
    """Start `uvicorn patron.asgi:app` on a free port for a database; returns its base URL."""
    processes: list[subprocess.Popen] = []

    def start(database_url: str) -> str:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [
                    str(VENV_BIN / "python"),
                    "-m",
                    "uvicorn",
                    "patron.asgi:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=ROOT,
                env=server_env(database_url),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(process, base, log)
        return base

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Chromium not installed at /usr/bin/chromium: run .ci/run or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page with generous timeouts."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def log_in(page, url: str, email: str, password: str) -> None:
    """Open a dashboard URL in Playwright and sign in on the login page it redirects to."""
    page.goto(url)
    page.wait_for_selector("input[name=email]")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
