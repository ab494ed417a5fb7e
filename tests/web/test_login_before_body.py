"""Anonymous posts to guarded pages are refused before their body is read; memory stays flat."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of
from tests.live import ROOT, VENV_BIN, _wait_until_up, free_port, server_env

MIB = 1024 * 1024
BIG = 300 * MIB


def _call(app, method: str, path: str, headers: list[tuple[bytes, bytes]]):
    """Run one request through the ASGI app; returns (status, times the body was asked for)."""
    asked, status = [], []

    async def receive():
        asked.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": len(asked) < 16}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return status[0], len(asked)


@pytest.mark.parametrize(
    "path", ["/segments/preview", "/segments", "/webhooks", "/logout", "/account/password"]
)
def test_an_anonymous_post_to_a_guarded_page_is_refused_unread(db, path):
    app = create_app(db.settings(), engine=db.engine)
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    assert _call(app, "POST", path, form) == (401, 0)
    browser = [*form, (b"accept", b"text/html,*/*")]
    assert _call(app, "POST", path, browser) == (303, 0)  # a browser form: to the login page


def test_the_login_form_is_still_read_without_a_session(db):
    app = create_app(db.settings(), engine=db.engine)
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, asked = _call(app, "POST", "/login", form)
    assert asked > 0 and status in (403, 422)  # read, then refused for its missing fields


def _rss_mib(pid: int, field: str) -> float:
    """A memory figure of a process from /proc (VmRSS now, VmHWM the peak), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture
def server(sqlite_db, tmp_path):
    """A real uvicorn process on a migrated database with one user: (base URL, pid)."""
    with transaction(sqlite_db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    port, log = free_port(), tmp_path / "server.log"
    command = [str(VENV_BIN / "python"), "-m", "uvicorn", "patron.asgi:app", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(sqlite_db.url), stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base, log)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _stream(total: int):
    """A body of `total` bytes sent in 1 MiB chunks, without a Content-Length."""
    chunk = b"x" * MIB
    for _ in range(total // MIB):
        yield chunk


def _post_big(client: httpx.Client, url: str, **headers) -> tuple[int | None, float]:
    """Stream 300 MB to url; returns (status, seconds), status None if the server hung up first."""
    start = time.monotonic()
    try:
        answer = client.post(url, content=_stream(BIG), headers=headers)
        return answer.status_code, time.monotonic() - start
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        return None, time.monotonic() - start


def test_300_mb_to_the_preview_keeps_the_server_memory_flat(server):
    base, pid = server
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=base, timeout=60) as anonymous:
        anonymous.get("/login")
        before = _rss_mib(pid, "VmRSS")
        status, seconds = _post_big(anonymous, "/segments/preview", **form)
        assert status in (401, None) and seconds < 10, (status, seconds)
        declared = anonymous.post("/segments/preview", content=b"x" * (2 * MIB), headers=form)
        assert declared.status_code == 401
    with httpx.Client(base_url=base, timeout=60) as user:
        token = csrf_of(user.get("/login").text)
        logged_in = {"email": EMAIL, "password": PASSWORD, "csrf_token": token, "next": "/"}
        assert user.post("/login", data=logged_in).status_code == 303
        status, seconds = _post_big(user, "/segments/preview", **form)
        assert status in (413, None) and seconds < 10, (status, seconds)
    assert _rss_mib(pid, "VmHWM") - before < 50
    assert _rss_mib(pid, "VmRSS") - before < 50
