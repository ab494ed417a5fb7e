"""Worker processes run a multi-step journey; one is SIGKILLed mid-batch three times.

Each (enrolment, step, iteration) runs exactly once: every enrolment completes with all of
its steps, none twice, and the outbox holds one message per enrolment and send step. Slow
proof: worker start-up alone takes seconds on this loaded machine, so 200 enrolments keep
it near 20 s per database.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

from sqlalchemy import column, func, insert, literal, select, table

from patron.customers.read import Customer
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.journeys.tables import Enrolment, StepRun
from patron.messages.tables import OutboxMessage
from patron.segments import service as segments
from tests.journeys.conftest import CONSUMER, T0, journey, template

ROOT = Path(__file__).resolve().parents[2]
ENROLMENTS = 100
EXPECTED = {("hello", 0), ("pause", 0), ("again", 1), ("bye", 1)}


def _setup(db) -> None:
    """Customers in a segment, a live journey on entering it, their entries logged."""
    rows = [
        dict(
            external_id=f"k{i}",
            email=f"k{i}@example.com",
            attributes={},
            created_at=T0,
            updated_at=T0,
        )
        for i in range(ENROLMENTS)
    ]
    with transaction(db.sessions) as s:
        s.execute(insert(Customer), rows)
        tid = template(s).id
        rule = {"type": "profile", "field": "email", "op": "contains", "value": "@"}
        seg = segments.create_segment(session=s, name="all", rules_json=rule, now=T0).id
        events.ensure_cursors(s, [CONSUMER.name], now=T0)
    send = {"type": "send", "template_id": tid}
    journey(
        db,
        {
            "trigger": {"type": "segment_entered", "segment_id": seg},
            "start": "hello",
            "steps": [
                {"id": "hello", **send, "next": "pause"},
                {"id": "pause", "type": "wait", "seconds": 1, "next": "again"},
                {"id": "again", **send, "next": "bye"},
                {"id": "bye", "type": "exit"},
            ],
        },
    )
    members = select(
        column("id").label("customer_id"),
        literal(seg).label("segment_id"),
        literal("all").label("segment_name"),
    ).select_from(table("customers"))
    with transaction(db.sessions) as s:
        events.append_select(s, "segment.entered", members, now=utcnow())
    events.pump(db.sessions, {CONSUMER.name: CONSUMER}, now=utcnow(), rounds=100)


def _worker(db) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.journeys.kill_worker", db.url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=None,
    )


def _runs(db) -> int:
    """Step runs so far; on SQLite through a plain reader, which never waits for the writers."""
    if db.backend == "sqlite":
        with closing(sqlite3.connect(db.url.removeprefix("sqlite:///"))) as conn:
            return conn.execute("SELECT count(*) FROM journey_step_runs").fetchone()[0]
    with transaction(db.sessions) as s:
        return s.scalar(select(func.count()).select_from(StepRun))


def _wait_for(db, runs: int, seconds: float) -> None:
    """Until there are that many step runs (or the time is up)."""
    deadline = time.monotonic() + seconds
    while _runs(db) < runs and time.monotonic() < deadline:
        time.sleep(0.1)


def test_killed_workers_run_every_step_once_none_skipped(db):
    _setup(db)
    rng = random.Random(10)
    workers = [_worker(db), _worker(db)]
    kills = 0
    try:
        for _ in range(3):
            _wait_for(db, _runs(db) + rng.randint(20, 80), 30)
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)  # mid-batch: it is always working
            workers[victim].wait()
            kills += 1
            workers[victim] = _worker(db)
        _wait_for(db, 4 * ENROLMENTS, 60)
    finally:
        for w in workers:
            w.kill()
            w.wait()
    assert kills == 3
    with transaction(db.sessions) as s:
        states = Counter(s.scalars(select(Enrolment.exit_reason)))
        runs = s.execute(select(StepRun.enrolment_id, StepRun.step_id, StepRun.iteration)).all()
        outbox = s.execute(select(OutboxMessage.customer_id, OutboxMessage.occurrence)).all()
    assert states == {"exit step": ENROLMENTS}  # every enrolment walked to the end
    assert max(Counter(runs).values()) == 1  # no step twice
    by_enrolment: dict[int, set] = {}
    for enrolment, step_id, iteration in runs:
        by_enrolment.setdefault(enrolment, set()).add((step_id, iteration))
    assert len(by_enrolment) == ENROLMENTS
    assert all(steps == EXPECTED for steps in by_enrolment.values())  # none skipped
    assert len(outbox) == 2 * ENROLMENTS and len(set(outbox)) == 2 * ENROLMENTS
    assert Counter(c for c, _ in outbox) == {c: 2 for c, _ in outbox}
