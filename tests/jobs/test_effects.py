"""Outside effects: recorded before acting, never performed twice, uncertain after a crash."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from patron.db import transaction
from patron.jobs import service as jobs
from patron.jobs import worker
from patron.jobs.context import JobContext, LeaseLost, NotPerformed
from patron.jobs.tables import JobEffect
from patron.manifest import JobHandler
from tests.factories import T0


def _claimed(db, worker_id="w", now=T0):
    with transaction(db.sessions) as s:
        jobs.enqueue(session=s, kind="send", run_at=T0, now=T0)
    with transaction(db.sessions) as s:
        [job] = jobs.claim(session=s, worker_id=worker_id, now=now, limit=1, lease_seconds=60)
    return job


def _effect_state(db, key):
    with transaction(db.sessions) as s:
        return s.scalar(select(JobEffect.state).where(JobEffect.key == key))


def test_an_effect_runs_once_and_a_second_call_returns_the_recorded_outcome(db):
    ctx = JobContext(db.sessions, _claimed(db), lambda: T0)
    calls = []
    first = ctx.effect("mail:1", lambda: calls.append(1) or {"id": "abc"})
    again = ctx.effect("mail:1", lambda: calls.append(2) or {"id": "xyz"})
    assert calls == [1]
    assert first.state == "done" and first.outcome == {"id": "abc"}
    assert again.repeated and again.outcome == {"id": "abc"}


def test_a_crash_between_acting_and_recording_leaves_it_uncertain_never_repeated(db):
    job = _claimed(db)
    ctx = JobContext(db.sessions, job, lambda: T0)
    assert ctx._start("mail:2") is None  # acted, then the worker died before recording
    calls = []
    retry = JobContext(db.sessions, job, lambda: T0).effect("mail:2", lambda: calls.append(1))
    assert calls == [] and retry.state == "uncertain" and retry.repeated
    assert _effect_state(db, "mail:2") == "uncertain"


def test_an_ambiguous_error_is_uncertain_and_a_known_refusal_may_be_retried(db):
    ctx = JobContext(db.sessions, _claimed(db), lambda: T0)

    def timeout():
        raise TimeoutError("no answer after DATA")

    assert ctx.effect("mail:3", timeout).state == "uncertain"

    def refused():
        raise NotPerformed("connection refused")

    with pytest.raises(NotPerformed):
        ctx.effect("mail:4", refused)
    assert _effect_state(db, "mail:4") is None
    assert ctx.effect("mail:4", lambda: {"ok": True}).state == "done"


def test_a_worker_that_lost_its_lease_does_not_act(db):
    old = _claimed(db, worker_id="a")
    with transaction(db.sessions) as s:  # the lease ran out and another worker took the job
        jobs.claim(
            session=s, worker_id="b", now=T0.replace(year=T0.year + 1), limit=1, lease_seconds=60
        )
    calls = []
    with pytest.raises(LeaseLost):
        JobContext(db.sessions, old, lambda: T0).effect("mail:5", lambda: calls.append(1))
    assert calls == []


def _writer_lock_is_free(db) -> bool:
    """Whether another connection can take SQLite's write lock at once."""
    path = db.url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


def test_an_outside_handler_runs_with_no_transaction_open(sqlite_db):
    db = sqlite_db
    seen = {}

    def send(*, ctx, now, payload):
        seen["in_transaction"] = not _writer_lock_is_free(db)
        ctx.effect("mail:6", lambda: {"sent": True})

    job = _claimed(db)
    handlers = {"send": JobHandler("send", send, outside=True)}
    assert worker.run_job(db.sessions, job, handlers) == "done"
    assert seen == {"in_transaction": False}
    with transaction(db.sessions) as s:  # a database-only handler does hold one
        jobs.enqueue(session=s, kind="hold", run_at=T0, now=T0)
    with transaction(db.sessions) as s:
        [held] = jobs.claim(session=s, worker_id="w", now=T0, limit=1, lease_seconds=60)

    def hold(*, session, now, payload):
        session.execute(select(1))
        seen["held"] = not _writer_lock_is_free(db)

    assert worker.run_job(db.sessions, held, {"hold": hold}) == "done" and seen["held"]
    assert _effect_state(db, "mail:6") == "done" and _effect_state(db, "mail:6") == "done"
