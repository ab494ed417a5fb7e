"""The worker: claims due jobs from the database and runs the service function each names."""

from __future__ import annotations

import importlib
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from patron.config import Settings
from patron.db import transaction, utcnow
from patron.jobs import rules
from patron.jobs import service as jobs
from patron.manifest import installed

log = logging.getLogger("patron.worker")


def registered_handlers() -> dict[str, Callable]:
    """kind -> function(*, session, now, payload), from the capabilities' manifests."""
    return {kind: h.run for kind, h in installed().job_handlers().items()}


class LeaseLost(Exception):
    """Another worker took the job over: this attempt's effects must roll back."""


def resolve(kind: str, handlers: dict[str, str | Callable]) -> Callable:
    """The function that runs jobs of this kind (a "module:function" string is imported)."""
    if kind not in handlers:
        raise LookupError(f"no handler for job kind {kind!r}")
    target = handlers[kind]
    if callable(target):
        return target
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def default_worker_id() -> str:
    """host:pid, unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(
    sessions: sessionmaker[Session],
    job: jobs.ClaimedJob,
    handlers: dict[str, str],
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """Run one claimed job; its effects and its completion commit together or not at all."""
    try:
        handler = resolve(job.kind, handlers)
        with transaction(sessions) as session:
            handler(session=session, now=clock(), payload=job.payload)
            if not jobs.finish(session=session, job=job, now=clock()):
                raise LeaseLost(f"job {job.id} was taken over")
        return "done"
    except LeaseLost:
        log.warning("job %s lost its lease; its effects were rolled back", job.id)
        return "lost"
    except Exception as exc:  # any handler error is recorded on the job, never lost
        log.exception("job %s (%s) failed", job.id, job.kind)
        with transaction(sessions) as session:
            return jobs.fail(
                session=session, job=job, now=clock(), error=f"{type(exc).__name__}: {exc}"
            )


def run_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    worker_id: str,
    handlers: dict[str, str] | None = None,
) -> int:
    """Claim one batch of due jobs and run them; returns how many were claimed."""
    handlers = handlers or registered_handlers()
    with transaction(sessions) as session:
        claimed = jobs.claim(
            session=session,
            worker_id=worker_id,
            now=utcnow(),
            limit=settings.worker_batch,
            lease_seconds=settings.worker_lease_seconds,
        )
    for job in claimed:
        run_job(sessions, job, handlers)
    return len(claimed)


def schedule_periodic(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Enqueue each scheduled job once per period, whatever the number of workers."""
    now = utcnow()
    for schedule in installed().schedules():
        every = schedule.every_minutes(settings)
        if every <= 0:
            continue
        with transaction(sessions) as session:
            jobs.enqueue(
                session=session,
                kind=schedule.kind,
                run_at=now,
                now=now,
                dedupe_key=f"{schedule.kind}:{rules.schedule_slot(now, every)}",
                max_attempts=schedule.max_attempts,
            )


def run_forever(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    worker_id: str,
    handlers: dict[str, str] | None = None,
    poll_seconds: float = 1.0,
    max_idle_polls: int | None = None,
) -> None:
    """Poll for jobs until stopped (or until idle for max_idle_polls polls)."""
    idle = 0
    while max_idle_polls is None or idle < max_idle_polls:
        schedule_periodic(sessions, settings)
        if run_once(sessions, settings, worker_id, handlers):
            idle = 0
            continue
        idle += 1
        time.sleep(poll_seconds)
