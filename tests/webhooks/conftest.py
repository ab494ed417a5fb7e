"""A real HTTP receiver on 127.0.0.1 and helpers that run webhook jobs with a chosen clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from patron.db import transaction
from patron.jobs import service as jobs
from patron.jobs.worker import registered_handlers, run_job


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    client_port: int = 0


@dataclass
class Receiver:
    """Records every POST; `respond(n, request)` gives (status, seconds to wait first)."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    respond: Callable[[int, Received], tuple[int, float]] = lambda n, r: (200, 0.0)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str) -> list[Received]:
        """The requests sent to one path."""
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def ids(self, path: str | None = None) -> list[str]:
        """The webhook-id of every request (of one path)."""
        with self.lock:
            chosen = [r for r in self.requests if path is None or r.path == path]
        return [r.headers["webhook-id"] for r in chosen]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            request = Received(
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
                time.time(),
                self.client_address[1],
            )
            with receiver.lock:
                receiver.requests.append(request)
                n = len([r for r in receiver.requests if r.path == self.path])
            status, wait = receiver.respond(n, request)
            if wait:
                time.sleep(wait)
            try:
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {status}".encode())
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    """A threading HTTP server on a free loopback port, recording what it receives."""
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def run_due_jobs(db, now: datetime, worker_id: str = "test") -> int:
    """Claims and runs every job due at `now`, with `now` as the clock; returns how many."""
    total = 0
    while True:
        with transaction(db.sessions) as s:
            claimed = jobs.claim(
                session=s, worker_id=worker_id, now=now, limit=50, lease_seconds=300
            )
        if not claimed:
            return total
        for job in claimed:
            run_job(db.sessions, job, registered_handlers(), clock=lambda: now)
        total += len(claimed)
