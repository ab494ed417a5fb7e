"""The job queue: claiming, fencing, retries, dedupe."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from patron.db import transaction
from patron.jobs import service as jobs
from patron.jobs.tables import Job
from patron.jobs.worker import run_job
from tests.factories import T0

HANDLERS = {
    "effect.record": "tests.jobs.handlers:record_effect",
    "explode": "tests.jobs.handlers:explode",
}


def _enqueue(db, n, kind="effect.record", **kw):
    with transaction(db.sessions) as s:
        return [
            jobs.enqueue(session=s, kind=kind, payload={"n": i}, run_at=T0, now=T0, **kw)
            for i in range(n)
        ]


def test_two_claims_never_share_a_job(db):
    _enqueue(db, 5)
    with transaction(db.sessions) as s:
        first = jobs.claim(session=s, worker_id="a", now=T0, limit=3, lease_seconds=60)
    with transaction(db.sessions) as s:
        second = jobs.claim(session=s, worker_id="b", now=T0, limit=3, lease_seconds=60)
    assert len(first) == 3 and len(second) == 2
    assert not {j.id for j in first} & {j.id for j in second}


def test_expired_lease_is_claimed_again_and_the_old_holder_is_fenced(db):
    _enqueue(db, 1)
    with transaction(db.sessions) as s:
        [old] = jobs.claim(session=s, worker_id="a", now=T0, limit=1, lease_seconds=10)
    with transaction(db.sessions) as s:
        assert (
            jobs.claim(
                session=s, worker_id="b", now=T0 + timedelta(seconds=5), limit=1, lease_seconds=10
            )
            == []
        )
    with transaction(db.sessions) as s:
        [new] = jobs.claim(
            session=s, worker_id="b", now=T0 + timedelta(seconds=11), limit=1, lease_seconds=10
        )
    assert new.id == old.id and new.attempts == 2
    assert run_job(db.sessions, old, HANDLERS) == "lost"
    assert run_job(db.sessions, new, HANDLERS) == "done"
    with transaction(db.sessions) as s:
        effects = s.scalars(select(Job).where(Job.kind == "effect")).all()
        assert len(effects) == 1


def test_failures_retry_with_backoff_then_fail(db):
    _enqueue(db, 1, kind="explode", max_attempts=2)
    now = T0
    for expected in ("retry", "failed"):
        with transaction(db.sessions) as s:
            [job] = jobs.claim(session=s, worker_id="a", now=now, limit=1, lease_seconds=60)
        assert run_job(db.sessions, job, HANDLERS, clock=lambda n=now: n) == expected
        now += timedelta(hours=2)
    with transaction(db.sessions) as s:
        row = s.scalar(select(Job))
        assert row.state == "failed" and "boom" in row.last_error


def test_dedupe_key_enqueues_once(db):
    with transaction(db.sessions) as s:
        first = jobs.enqueue(session=s, kind="x", run_at=T0, now=T0, dedupe_key="slot-1")
        again = jobs.enqueue(session=s, kind="x", run_at=T0, now=T0, dedupe_key="slot-1")
    assert first is not None and again is None
