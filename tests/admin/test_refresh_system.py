"""Refresh now (one job however often clicked, its state shown) and the System page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from patron.db import transaction, utcnow
from patron.events import service as events
from patron.events.tables import ConsumerCursor
from patron.jobs import service as jobs
from patron.jobs.tables import Job
from patron.jobs.worker import drain
from patron.manifest import installed
from tests import factories
from tests.admin.conftest import token_of


def _refresh_jobs(db) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).where(Job.kind == "analytics.refresh"))


def test_refresh_now_needs_the_csrf_token(admin, db):
    assert admin.post("/admin/refresh", data={}).status_code == 403
    assert _refresh_jobs(db) == 0


def test_refresh_now_twice_queues_one_job_that_the_worker_finishes(admin, db):
    with transaction(db.sessions) as s:
        factories.order(s, "o1", "ada", total=1250)
    assert "No refresh has run yet" in admin.get("/admin").text
    token = token_of(admin, "/admin")
    first = admin.post("/admin/refresh", data={"csrf_token": token})
    second = admin.post("/admin/refresh", data={"csrf_token": token})
    assert "Refresh queued" in first.text and "already queued" in second.text
    assert _refresh_jobs(db) == 1
    with db.sessions() as s:
        job = s.scalar(select(Job).where(Job.kind == "analytics.refresh"))
        assert (job.queue, job.state) == ("bulk", "pending")
    assert 'http-equiv="refresh"' in first.text  # reloads while the job waits
    drain(db.sessions, db.settings())
    page = admin.get("/admin").text
    assert 'data-testid="refresh-state">done<' in page and 'http-equiv="refresh"' not in page
    again = admin.post("/admin/refresh", data={"csrf_token": token})
    assert "Refresh queued" in again.text and _refresh_jobs(db) == 2  # a new one once done


def test_system_page_shows_queues_failed_jobs_and_a_failing_consumer(admin, db):
    now = utcnow()
    name = sorted(installed().consumers())[0]
    with transaction(db.sessions) as s:
        jobs.enqueue(session=s, kind="test.broken", run_at=now, now=now, max_attempts=1)
        claimed = jobs.claim(session=s, worker_id="w", now=now, limit=5, lease_seconds=60)
        jobs.fail(session=s, job=claimed[0], now=now, error="ValueError: the broken job")
        events.ensure_cursors(s, [name], now=now)
        s.execute(
            update(ConsumerCursor)
            .where(ConsumerCursor.name == name)
            .values(
                failures=3,
                failing_since=now,
                retry_at=now + timedelta(hours=1),
                last_error="RuntimeError: consumer boom",
            )
        )
    page = admin.get("/admin/system").text
    assert "ValueError: the broken job" in page and "test.broken" in page
    assert "RuntimeError: consumer boom" in page and "Retry now" in page
    assert 'data-testid="queues"' in page
    retry = f"/admin/system/consumers/{name}/retry"
    assert admin.post(retry, data={}).status_code == 403
    answer = admin.post(retry, data={"csrf_token": token_of(admin, "/admin/system")})
    assert answer.status_code == 200 and "will retry" in answer.text
    with db.sessions() as s:
        assert s.scalar(select(ConsumerCursor.retry_at).where(ConsumerCursor.name == name)) is None


def test_retrying_an_unknown_consumer_says_so(admin):
    answer = admin.post(
        "/admin/system/consumers/nobody/retry",
        data={"csrf_token": token_of(admin, "/admin/system")},
    )
    assert "no event consumer is called" in answer.text
