"""Queues, priorities, active-only dedupe, lease renewal, lanes, pruning and status."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from patron.db import transaction, utcnow
from patron.jobs import service as jobs
from patron.jobs import worker
from patron.jobs.tables import Job
from patron.manifest import JobHandler
from tests.factories import T0


def _enqueue(db, kind="k", **kw):
    with transaction(db.sessions) as s:
        return jobs.enqueue(session=s, kind=kind, run_at=T0, now=T0, **kw)


def _claim(db, worker_id="w", now=T0, limit=10, **kw):
    with transaction(db.sessions) as s:
        return jobs.claim(
            session=s, worker_id=worker_id, now=now, limit=limit, lease_seconds=60, **kw
        )


def test_higher_priority_is_claimed_first_and_queues_are_separate(db):
    low = _enqueue(db, queue="bulk", priority=0)
    high = _enqueue(db, queue="bulk", priority=10)
    urgent = _enqueue(db, queue="transactional")
    assert [j.id for j in _claim(db, limit=1, queues=("bulk",))] == [high]
    assert [j.id for j in _claim(db, queues=("transactional",))] == [urgent]
    assert [j.id for j in _claim(db, queues=("bulk",))] == [low]


def test_a_dedupe_key_is_unique_only_while_the_job_is_active(db):
    first = _enqueue(db, dedupe_key="slot")
    assert _enqueue(db, dedupe_key="slot") is None
    [job] = _claim(db)
    assert _enqueue(db, dedupe_key="slot") is None  # running is still active
    with transaction(db.sessions) as s:
        assert jobs.finish(session=s, job=job, now=T0)
    again = _enqueue(db, dedupe_key="slot")
    assert again is not None and again != first


def test_renewing_keeps_a_running_job_from_being_claimed_again(db):
    _enqueue(db)
    with transaction(db.sessions) as s:
        [job] = jobs.claim(session=s, worker_id="a", now=T0, limit=1, lease_seconds=10)
    with transaction(db.sessions) as s:
        renewed = jobs.renew(
            session=s,
            worker_id="a",
            job_ids=[job.id],
            now=T0 + timedelta(seconds=8),
            lease_seconds=10,
        )
    assert renewed == 1
    later = T0 + timedelta(seconds=15)  # past the first lease, inside the renewed one
    assert _claim(db, worker_id="b", now=later) == []
    assert [j.id for j in _claim(db, worker_id="b", now=later + timedelta(seconds=5))] == [job.id]


def test_the_heartbeat_renews_leases_while_a_long_handler_runs(db):
    _enqueue(db, kind="slow")
    settings = db.settings(worker_lease_seconds=1, worker_batch=1)
    started = threading.Event()

    def slow(*, session, now, payload):
        started.set()
        time.sleep(2.5)

    heartbeat = worker.Heartbeat(db.sessions, "a", 1).start()
    runner = threading.Thread(
        target=worker.run_once,
        args=(db.sessions, settings, "a", {"slow": slow}),
        kwargs={"heartbeat": heartbeat},
    )
    runner.start()
    started.wait(5)
    time.sleep(1.5)  # past the first lease: only a renewal keeps it held
    with transaction(db.sessions) as s:
        stolen = jobs.claim(
            session=s, worker_id="b", now=worker.utcnow(), limit=1, lease_seconds=60
        )
    runner.join()
    heartbeat.stop()
    assert stolen == []
    with transaction(db.sessions) as s:
        assert s.scalar(select(Job.state)) == "done"


def test_transactional_work_does_not_wait_behind_bulk_work(db):
    order: list[str] = []
    bulk_started = threading.Event()

    def bulk(*, session, now, payload):
        bulk_started.set()
        time.sleep(2)
        order.append("bulk")

    def urgent(*, session, now, payload):
        order.append("urgent")

    handlers = {"bulk": JobHandler("bulk", bulk), "urgent": JobHandler("urgent", urgent)}
    _enqueue(db, kind="bulk", queue="bulk")
    stop = threading.Event()
    settings = db.settings(refresh_interval_minutes=0)
    thread = threading.Thread(
        target=worker.run_forever,
        args=(db.sessions, settings),
        kwargs=dict(
            worker_id="w",
            handlers=handlers,
            poll_seconds=0.05,
            queues=("transactional", "bulk"),
            stop=stop,
        ),
    )
    thread.start()
    bulk_started.wait(5)
    _enqueue(db, kind="urgent", queue="transactional")
    deadline = time.monotonic() + 10
    while len(order) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join()
    assert order == ["urgent", "bulk"]


def test_prune_deletes_finished_jobs_past_retention_and_status_shows_queues(db):
    for _ in range(3):
        _enqueue(db, queue="bulk")
    _enqueue(db, queue="transactional")
    claimed = _claim(db, queues=("bulk",), limit=2)
    with transaction(db.sessions) as s:
        for job in claimed:
            jobs.finish(session=s, job=job, now=T0)
    with transaction(db.sessions) as s:
        status = {q.queue: q for q in jobs.queue_status(session=s, now=T0 + timedelta(minutes=5))}
    assert status["bulk"].states == {"done": 2, "pending": 1}
    assert status["transactional"].oldest_pending_seconds == 300
    with transaction(db.sessions) as s:
        assert jobs.prune(session=s, now=T0 + timedelta(hours=1), keep_hours=2) == 0
        assert jobs.prune(session=s, now=T0 + timedelta(hours=3), keep_hours=2) == 2
        assert s.scalar(select(func.count()).select_from(Job)) == 2


def test_a_schedule_enqueues_once_per_period_even_after_its_job_finished(db):
    settings = db.settings()
    now = utcnow()  # one instant: a slow run must not cross into the next period
    for _ in range(3):
        worker.schedule_periodic(db.sessions, settings, now=now)
        worker.drain(db.sessions, settings)
    with transaction(db.sessions) as s:
        keys = list(s.scalars(select(Job.dedupe_key).where(Job.dedupe_key.is_not(None))))
        kinds = [k for (k,) in s.execute(select(Job.kind).order_by(Job.kind))]
    # Each schedule's job once (a consumer may also enqueue the same kind, e.g. a training
    # after the refresh: that one carries no period in its key).
    scheduled = [key.rsplit(":", 1)[0] for key in keys if ":" in key]
    assert len(scheduled) == len(set(scheduled)) and set(scheduled) <= set(kinds)
    assert "analytics.refresh" in kinds and "jobs.prune" in kinds


def test_a_worker_hands_back_claimed_jobs_it_has_not_started_behind_a_long_one(db):
    ran: list[str] = []

    def long(*, session, now, payload):
        time.sleep(worker.HAND_BACK_AFTER_SECONDS + 0.2)
        ran.append("long")

    def short(*, session, now, payload):
        ran.append("short")

    handlers = {"long": JobHandler("long", long), "short": JobHandler("short", short)}
    _enqueue(db, kind="long", priority=1)
    second = _enqueue(db, kind="short")
    settings = db.settings(worker_batch=10)
    assert worker.run_once(db.sessions, settings, "w1", handlers) == 1
    assert ran == ["long"]
    with transaction(db.sessions) as s:
        job = s.get(Job, second)
        assert (job.state, job.attempts, job.locked_by) == ("pending", 0, None)
    assert [j.kind for j in _claim(db, worker_id="w2")] == ["short"]
