"""Use cases of the durable job queue: enqueue, claim with a lease, finish, fail.

Claiming is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING on
PostgreSQL, so any number of workers on any number of machines take disjoint jobs; on SQLite the
same single statement runs under the database's one-writer lock. A job whose worker died is
claimed again when its lease runs out; finishing is fenced by the lease token, so a worker that
lost its lease cannot mark a job done (its transaction rolls back and the effects go with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.jobs import rules
from patron.jobs.tables import Job, JobEffect, JobSchedule


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds: what to run, and the token that proves the lease."""

    id: int
    kind: str
    payload: dict
    attempts: int
    max_attempts: int
    token: str


def enqueue(
    *,
    session: Session,
    kind: str,
    payload: dict | None = None,
    run_at: datetime,
    now: datetime,
    dedupe_key: str | None = None,
    max_attempts: int = 5,
    queue: str = "default",
    priority: int = 0,
) -> int | None:
    """Adds a job; with the dedupe key of an active job, adds nothing and returns None."""
    job = Job(
        kind=kind,
        queue=queue,
        priority=priority,
        payload=payload or {},
        run_at=run_at,
        created_at=now,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        state="pending",
        attempts=0,
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        return None
    return job.id


def claim_slot(*, session: Session, kind: str, slot: int) -> bool:
    """Takes a schedule period for a job kind; True for exactly one caller per period."""
    try:
        with session.begin_nested():
            session.add(JobSchedule(kind=kind, last_slot=slot))
            session.flush()
        return True
    except IntegrityError:
        pass
    taken = session.execute(
        update(JobSchedule)
        .where(JobSchedule.kind == kind, JobSchedule.last_slot < slot)
        .values(last_slot=slot)
    )
    return taken.rowcount == 1


def claim(
    *,
    session: Session,
    worker_id: str,
    now: datetime,
    limit: int,
    lease_seconds: int,
    queues: tuple[str, ...] | None = None,
) -> list[ClaimedJob]:
    """Takes up to `limit` due jobs (or jobs whose lease ran out), highest priority first."""
    due = or_(
        and_(Job.state == "pending", Job.run_at <= now),
        and_(Job.state == "running", Job.locked_until < now),
    )
    if queues is not None:
        due = and_(Job.queue.in_(queues), due)
    candidates = (
        select(Job.id)
        .where(due)
        .order_by(Job.priority.desc(), Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()))
        .values(
            state="running",
            attempts=Job.attempts + 1,
            locked_until=now + timedelta(seconds=lease_seconds),
            locked_by=worker_id,
        )
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    ).all()
    return [
        ClaimedJob(
            r.id,
            r.kind,
            r.payload or {},
            r.attempts,
            r.max_attempts,
            rules.lease_token(worker_id, r.attempts),
        )
        for r in rows
    ]


def release(*, session: Session, worker_id: str, job_ids: list[int]) -> int:
    """Hands back claimed jobs this worker has not started (as if never claimed)."""
    if not job_ids:
        return 0
    result = session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker_id, Job.state == "running")
        .values(state="pending", attempts=Job.attempts - 1, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _fenced(job: ClaimedJob):
    """Condition: the job is still held under this claim's lease."""
    worker_id = job.token.rsplit("#", 1)[0]
    return and_(
        Job.id == job.id,
        Job.state == "running",
        Job.locked_by == worker_id,
        Job.attempts == job.attempts,
    )


def finish(*, session: Session, job: ClaimedJob, now: datetime) -> bool:
    """Marks a held job done; False when the lease was lost (the caller must roll back)."""
    result = session.execute(
        update(Job)
        .where(_fenced(job))
        .values(state="done", finished_at=now, locked_until=None, last_error=None)
    )
    return result.rowcount == 1


def fail(*, session: Session, job: ClaimedJob, now: datetime, error: str) -> str:
    """Records a failed attempt: retried later with back-off, or failed for good."""
    final = job.attempts >= job.max_attempts
    values = {"last_error": error[:4000], "locked_until": None}
    if final:
        values.update(state="failed", finished_at=now)
    else:
        values.update(state="pending", run_at=now + rules.retry_delay(job.attempts))
    session.execute(update(Job).where(_fenced(job)).values(**values))
    return "failed" if final else "retry"


def renew(
    *, session: Session, worker_id: str, job_ids: list[int], now: datetime, lease_seconds: int
) -> int:
    """Extends the lease of the jobs this worker still holds; returns how many."""
    if not job_ids:
        return 0
    result = session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.state == "running", Job.locked_by == worker_id)
        .values(locked_until=now + timedelta(seconds=lease_seconds))
    )
    return result.rowcount or 0


def holds(*, session: Session, job: ClaimedJob) -> bool:
    """Whether this claim still holds its job's lease."""
    return session.scalar(select(func.count()).select_from(Job).where(_fenced(job))) == 1


def counts(*, session: Session) -> dict[str, int]:
    """Number of jobs in each state."""
    rows = session.execute(select(Job.state, func.count()).group_by(Job.state))
    return dict(rows.all())


@dataclass(frozen=True)
class QueueStatus:
    """Jobs of one queue by state, and how long the oldest due job has waited."""

    queue: str
    states: dict[str, int]
    oldest_pending_seconds: float | None


def queue_status(*, session: Session, now: datetime) -> list[QueueStatus]:
    """Per queue: jobs in each state and the age of the oldest due pending job."""
    by_queue: dict[str, dict[str, int]] = {}
    for queue, state, count in session.execute(
        select(Job.queue, Job.state, func.count()).group_by(Job.queue, Job.state)
    ):
        by_queue.setdefault(queue, {})[state] = count
    oldest = dict(
        session.execute(
            select(Job.queue, func.min(Job.run_at))
            .where(Job.state == "pending", Job.run_at <= now)
            .group_by(Job.queue)
        ).all()
    )
    return [
        QueueStatus(
            queue,
            states,
            (now - oldest[queue]).total_seconds() if oldest.get(queue) else None,
        )
        for queue, states in sorted(by_queue.items())
    ]


def prune(*, session: Session, now: datetime, keep_hours: int) -> int:
    """Deletes finished jobs (and their recorded effects) older than keep_hours."""
    cutoff = now - timedelta(hours=keep_hours)
    old = select(Job.id).where(Job.state.in_(("done", "failed")), Job.finished_at < cutoff)
    session.execute(delete(JobEffect).where(JobEffect.job_id.in_(old.scalar_subquery())))
    result = session.execute(
        delete(Job).where(Job.state.in_(("done", "failed")), Job.finished_at < cutoff)
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class JobView:
    """A job as status pages show it."""

    id: int
    kind: str
    queue: str
    state: str
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def _view(job: Job) -> JobView:
    """The status-page view of a job row."""
    return JobView(
        job.id,
        job.kind,
        job.queue,
        job.state,
        job.attempts,
        job.max_attempts,
        job.last_error,
        job.created_at,
        job.finished_at,
    )


def active_job_id(*, session: Session, dedupe_key: str) -> int | None:
    """The id of the pending or running job holding a dedupe key, if any."""
    return session.scalar(
        select(Job.id).where(Job.dedupe_key == dedupe_key, Job.state.in_(("pending", "running")))
    )


def latest_of_kind(*, session: Session, kind: str) -> JobView | None:
    """The newest job of a kind, whatever its state."""
    job = session.scalar(select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(1))
    return _view(job) if job is not None else None


def recent_failed(*, session: Session, limit: int = 20) -> list[JobView]:
    """Jobs that failed for good, newest first, with their last error."""
    rows = session.scalars(
        select(Job).where(Job.state == "failed").order_by(Job.finished_at.desc()).limit(limit)
    )
    return [_view(job) for job in rows]
