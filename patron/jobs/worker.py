"""The worker: lanes that claim due jobs by queue, a lane that feeds event consumers.

Each named queue has its own lane (a thread), so transactional work never waits behind a
bulk refresh; within a queue, higher priority first. A heartbeat renews the leases of the jobs
this worker holds while their handlers run. Handlers come from the capabilities' manifests.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from patron.config import Settings
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.jobs import rules
from patron.jobs import service as jobs
from patron.jobs.context import JobContext, LeaseLost
from patron.manifest import JobHandler, installed

log = logging.getLogger("patron.worker")
EVENTS_LANE = "events"
# A worker that has spent this long on its claimed jobs hands back those it has not started.
HAND_BACK_AFTER_SECONDS = 1.0
Handlers = dict[str, "JobHandler | Callable | str"]


def registered_handlers() -> dict[str, JobHandler]:
    """Job handlers by kind, from the capabilities' manifests."""
    return installed().job_handlers()


def resolve(kind: str, handlers: Handlers) -> JobHandler:
    """The handler of a job kind (a function or "module:function" runs in the job's session)."""
    if kind not in handlers:
        raise LookupError(f"no handler for job kind {kind!r}")
    target = handlers[kind]
    if isinstance(target, JobHandler):
        return target
    if isinstance(target, str):
        module_name, func_name = target.split(":")
        target = getattr(importlib.import_module(module_name), func_name)
    return JobHandler(kind, target)


def default_worker_id() -> str:
    """host:pid, unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _run_inside(sessions, job, handler: JobHandler, clock) -> None:
    """A database-only handler: its effects and the job's completion commit together."""
    with transaction(sessions) as session:
        handler.run(session=session, now=clock(), payload=job.payload)
        if not jobs.finish(session=session, job=job, now=clock()):
            raise LeaseLost(f"job {job.id} was taken over")


def _run_outside(sessions, job, handler: JobHandler, clock) -> None:
    """A handler with outside effects runs with no transaction open, then finishes fenced."""
    handler.run(ctx=JobContext(sessions, job, clock), now=clock(), payload=job.payload)
    with transaction(sessions) as session:
        if not jobs.finish(session=session, job=job, now=clock()):
            raise LeaseLost(f"job {job.id} was taken over")


def run_job(
    sessions: sessionmaker[Session],
    job: jobs.ClaimedJob,
    handlers: Handlers,
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """Run one claimed job; returns done, lost, retry or failed."""
    try:
        handler = resolve(job.kind, handlers)
        (_run_outside if handler.outside else _run_inside)(sessions, job, handler, clock)
        return "done"
    except LeaseLost:
        log.warning("job %s lost its lease; its database effects were rolled back", job.id)
        return "lost"
    except Exception as exc:  # any handler error is recorded on the job, never lost
        log.exception("job %s (%s) failed", job.id, job.kind)
        with transaction(sessions) as session:
            return jobs.fail(
                session=session, job=job, now=clock(), error=f"{type(exc).__name__}: {exc}"
            )


class Heartbeat:
    """Renews, every third of a lease, the leases of the jobs this worker is running."""

    def __init__(self, sessions: sessionmaker[Session], worker_id: str, lease_seconds: int):
        self.sessions, self.worker_id, self.lease_seconds = sessions, worker_id, lease_seconds
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        """Start renewing in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing."""
        self._stop.set()

    def hold(self, job_ids: list[int]) -> None:
        """Start renewing these jobs."""
        with self._lock:
            self._held.update(job_ids)

    def release(self, job_id: int) -> None:
        """Stop renewing a finished job."""
        with self._lock:
            self._held.discard(job_id)

    def _loop(self) -> None:
        """Renew until stopped; a failed renewal is logged and tried again next beat."""
        while not self._stop.wait(max(0.2, self.lease_seconds / 3)):
            with self._lock:
                held = sorted(self._held)
            try:
                with transaction(self.sessions) as session:
                    jobs.renew(
                        session=session,
                        worker_id=self.worker_id,
                        job_ids=held,
                        now=utcnow(),
                        lease_seconds=self.lease_seconds,
                    )
            except Exception:
                log.exception("lease renewal failed")


def run_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    worker_id: str,
    handlers: Handlers | None = None,
    *,
    queues: tuple[str, ...] | None = None,
    heartbeat: Heartbeat | None = None,
) -> int:
    """Claim one batch of due jobs (of these queues) and run them; returns how many."""
    handlers = handlers or registered_handlers()
    with transaction(sessions) as session:
        claimed = jobs.claim(
            session=session,
            worker_id=worker_id,
            now=utcnow(),
            limit=settings.worker_batch,
            lease_seconds=settings.worker_lease_seconds,
            queues=queues,
        )
    if heartbeat:
        heartbeat.hold([job.id for job in claimed])
    started = time.monotonic()
    for index, job in enumerate(claimed):
        if index and time.monotonic() - started > HAND_BACK_AFTER_SECONDS:
            _hand_back(sessions, worker_id, claimed[index:], heartbeat)
            return index
        run_job(sessions, job, handlers)
        if heartbeat:
            heartbeat.release(job.id)
    return len(claimed)


def _hand_back(sessions, worker_id: str, rest: list[jobs.ClaimedJob], heartbeat) -> None:
    """Return claimed jobs not yet started, so other workers need not wait behind a long one."""
    with transaction(sessions) as session:
        jobs.release(session=session, worker_id=worker_id, job_ids=[j.id for j in rest])
    if heartbeat:
        for job in rest:
            heartbeat.release(job.id)


def schedule_periodic(
    sessions: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> None:
    """Enqueue each scheduled job once per period, whatever the number of workers."""
    now = now or utcnow()
    for schedule in installed().schedules():
        every = schedule.every_minutes(settings)
        if every <= 0:
            continue
        slot = rules.schedule_slot(now, every)
        with transaction(sessions) as session:
            if not jobs.claim_slot(session=session, kind=schedule.kind, slot=slot):
                continue
            jobs.enqueue(
                session=session,
                kind=schedule.kind,
                payload=schedule.payload(settings) if schedule.payload else None,
                run_at=now,
                now=now,
                dedupe_key=f"{schedule.kind}:{slot}",
                max_attempts=schedule.max_attempts,
                queue=schedule.queue,
            )


def pump_events(sessions: sessionmaker[Session]) -> int:
    """Feed every event consumer its pending events; returns how many were handled."""
    return events.pump(sessions, installed().consumers(), now=utcnow())


def drain(sessions: sessionmaker[Session], settings: Settings, *, rounds: int = 100) -> int:
    """Feed consumers and run due jobs until nothing is left (set-up commands, tests)."""
    total = 0
    for _ in range(rounds):
        done = pump_events(sessions) + run_once(sessions, settings, default_worker_id())
        total += done
        if not done:
            break
    return total


class InProcessWorker:
    """A worker in a background thread of the web server (the demo, small set-ups)."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=run_forever,
            args=(sessions, settings),
            kwargs={"worker_id": f"{default_worker_id()}:web", "stop": self.stop_event},
            name="in-process-worker",
            daemon=True,
        )

    def start(self) -> None:
        """Start working in the background."""
        self.thread.start()

    def stop(self) -> None:
        """Stop after the jobs in hand."""
        self.stop_event.set()
        self.thread.join(timeout=30)


def install_in_process(app) -> None:
    """Run a worker inside the web process when PATRON_INPROCESS_WORKER is on."""
    if not app.state.settings.inprocess_worker:
        return
    holder = InProcessWorker(app.state.sessions, app.state.settings)
    app.router.on_startup.append(holder.start)
    app.router.on_shutdown.append(holder.stop)


class Lane(threading.Thread):
    """One queue's loop (or the event consumers'), counting its idle polls."""

    def __init__(self, name: str, step: Callable[[], int], poll: float, stop: threading.Event):
        super().__init__(name=f"lane-{name}", daemon=True)
        self.step, self.poll, self.stop_event, self.idle = step, poll, stop, 0

    def run(self) -> None:
        """Step until stopped; sleep a poll when there was nothing to do."""
        while not self.stop_event.is_set():
            try:
                busy = self.step()
            except Exception:
                log.exception("%s failed; trying again", self.name)
                busy = 0
            self.idle = 0 if busy else self.idle + 1
            if not busy:
                self.stop_event.wait(self.poll)


def run_forever(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    worker_id: str,
    handlers: Handlers | None = None,
    poll_seconds: float = 1.0,
    max_idle_polls: int | None = None,
    queues: tuple[str, ...] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run a lane per queue and one for events until stopped (or idle for max_idle_polls)."""
    stop = stop or threading.Event()
    heartbeat = Heartbeat(sessions, worker_id, settings.worker_lease_seconds).start()
    names = queues or settings.worker_queues
    lanes = [
        Lane(
            q,
            lambda q=q: run_once(
                sessions, settings, worker_id, handlers, queues=(q,), heartbeat=heartbeat
            ),
            poll_seconds,
            stop,
        )
        for q in names
        if q != EVENTS_LANE
    ]
    if EVENTS_LANE in names:
        lanes.append(Lane(EVENTS_LANE, lambda: pump_events(sessions), poll_seconds, stop))
    for lane in lanes:
        lane.start()
    try:
        while not stop.is_set():
            schedule_periodic(sessions, settings)
            if max_idle_polls is not None and all(lane.idle >= max_idle_polls for lane in lanes):
                break
            stop.wait(poll_seconds)
    finally:
        stop.set()
        for lane in lanes:
            lane.join()
        heartbeat.stop()
