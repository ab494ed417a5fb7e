"""Worker processes feeding a consumer, one killed mid-batch: every event handled exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from patron.db import transaction
from patron.events import service as events
from patron.events.tables import ConsumerCursor
from patron.events.types import event
from patron.jobs.tables import Job
from tests.events.capability import SEEN
from tests.factories import T0

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 60


def _start_worker(db, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": db.url,
        "PATRON_SECRET_KEY": "k",
        "PATRON_REFRESH_INTERVAL_MINUTES": "0",
        "PATRON_WORKER_QUEUES": "events",
        "PATRON_PLUGINS": "tests.events.capability:manifest",
        "TEST_CONSUMER_SLEEP": "0.15",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "patron", "worker", "--poll", "0.05"]
    command += ["--exit-when-idle", "80", "--worker-id", name]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _handled(db) -> int:
    with transaction(db.sessions) as s:
        cursor = s.get(ConsumerCursor, "test.recorder")
        return cursor.handled if cursor else 0


def test_killed_worker_leaves_every_event_handled_exactly_once(db):
    with transaction(db.sessions) as s:
        events.append(s, [event("test.happened", None, n=n) for n in range(EVENTS)], now=T0)
        events.append(s, [event("unrelated", None, n=n) for n in range(10)], now=T0)
    workers = [_start_worker(db, f"w{i}") for i in range(3)]
    try:
        deadline = time.monotonic() + 30
        while _handled(db) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 90
        while _handled(db) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for w in workers:
            w.kill()
            w.wait()
    with transaction(db.sessions) as s:
        seen = Counter(
            p["event_id"] for p in s.scalars(select(Job.payload).where(Job.kind == SEEN))
        )
        total = s.scalar(select(func.count()).select_from(Job).where(Job.kind == SEEN))
    assert total == EVENTS and len(seen) == EVENTS and set(seen.values()) == {1}
    assert _handled(db) == EVENTS
