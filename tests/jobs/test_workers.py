"""Several worker processes, one killed mid-batch: every job runs to completion exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from patron.db import transaction
from patron.jobs import service as jobs
from patron.jobs.tables import Job
from tests.factories import T0

ROOT = Path(__file__).resolve().parents[2]
JOBS = 60


def _start_worker(db, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": db.url,
        "PATRON_SECRET_KEY": "k",
        "PATRON_WORKER_BATCH": "4",
        "PATRON_WORKER_LEASE_SECONDS": "3",
        "PATRON_REFRESH_INTERVAL_MINUTES": "0",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patron",
            "worker",
            "--poll",
            "0.1",
            "--exit-when-idle",
            "60",
            "--worker-id",
            name,
            "--handler",
            "effect.record=tests.jobs.handlers:record_effect",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _done(db) -> int:
    with transaction(db.sessions) as s:
        return s.scalar(
            select(func.count()).where(Job.kind == "effect.record", Job.state == "done")
        )


def test_killed_worker_loses_nothing_and_nothing_runs_twice(db):
    with transaction(db.sessions) as s:
        for n in range(JOBS):
            jobs.enqueue(
                session=s, kind="effect.record", payload={"n": n, "sleep": 0.05}, run_at=T0, now=T0
            )
    workers = [_start_worker(db, f"w{i}") for i in range(3)]
    try:
        deadline = time.monotonic() + 20
        while _done(db) < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 90
        while _done(db) < JOBS and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for w in workers:
            w.kill()
            w.wait()
    assert _done(db) == JOBS
    with transaction(db.sessions) as s:
        ns = [p["n"] for p in s.scalars(select(Job.payload).where(Job.kind == "effect"))]
    assert sorted(ns) == list(range(JOBS))
