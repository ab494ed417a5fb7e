"""The in-process worker: the web server runs jobs itself when PATRON_INPROCESS_WORKER is on."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.db import transaction, utcnow
from patron.jobs import service as jobs
from patron.jobs.tables import Job


def _state(db, job_id):
    with transaction(db.sessions) as s:
        return s.scalar(select(Job.state).where(Job.id == job_id))


def test_the_server_runs_jobs_in_process_only_when_asked(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as s:
        job_id = jobs.enqueue(
            session=s, kind="jobs.prune", payload={}, run_at=utcnow(), now=utcnow()
        )
    settings = db.settings(refresh_interval_minutes=0)
    with TestClient(create_app(settings, engine=db.engine)):
        time.sleep(0.5)
    assert _state(db, job_id) == "pending"
    app = create_app(
        db.settings(refresh_interval_minutes=0, inprocess_worker=True), engine=db.engine
    )
    with TestClient(app):
        deadline = time.monotonic() + 10
        while _state(db, job_id) != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _state(db, job_id) == "done"
