"""The step engine: claims due enrolments and runs their steps, each exactly once.

Claiming is one UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) setting a lease, so
any number of workers take disjoint enrolments. A batch then runs in one transaction, each
enrolment under a savepoint: a step's effect (an outbox row, a profile update, a contributed
step's row), its step-run row (unique on version, step, enrolment, iteration) and the advance
of the enrolment commit together. A worker killed mid-batch commits nothing; the lease runs
out and another worker runs the same steps from the same committed state: none twice, none
skipped. A step that raises is rolled back alone and retried with back-off; after
MAX_ATTEMPTS the enrolment is parked `failed` with the reason, and the others go on.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from patron.customers import service as customers
from patron.customers.read import Customer
from patron.db import transaction
from patron.jobs import service as jobs
from patron.journeys import definition, effects, fast, rules, steps
from patron.journeys.tables import Enrolment, Journey, JourneyVersion, StepRun
from patron.messages import service as messages
from patron.segments import service as segments

log = logging.getLogger("patron.journeys")
STEPS_JOB = "journeys.steps"
SOURCE = "journey"
LEASE_SECONDS = 120
BATCH = 500
MAX_ATTEMPTS = 5
# Instant steps one enrolment may run in one go; validation already refuses wait-less loops.
MAX_CHAIN = 100


@dataclass
class Batch:
    """What one batch needs across enrolments: parsed versions, journeys, kinds to wake."""

    definitions: dict[int, definition.Definition] = field(default_factory=dict)
    kinds: set[str] = field(default_factory=set)
    steps: int = 0


def _is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int = BATCH,
    lease_seconds: int = LEASE_SECONDS,
) -> list[int]:
    """Lease up to limit due enrolments of live journeys; returns their ids."""
    live = select(Journey.id).where(Journey.state == "live")
    due = (
        select(Enrolment.id)
        .where(
            Enrolment.state.in_(rules.LIVE_STATES),
            Enrolment.due_at <= now,
            or_(Enrolment.lease_until.is_(None), Enrolment.lease_until < now),
            Enrolment.journey_id.in_(live),
        )
        .order_by(Enrolment.due_at)
        .limit(limit)
    )
    if _is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    statement = (
        update(Enrolment)
        .where(Enrolment.id.in_(due.scalar_subquery()))
        .values(lease_owner=worker, lease_until=now + timedelta(seconds=lease_seconds))
        .returning(Enrolment.id)
    )
    return sorted(session.scalars(statement.execution_options(synchronize_session=False)))


def record_run(
    session: Session, e: Enrolment, step_id: str, outcome: str, now: datetime, detail=None
) -> None:
    """The step-run row; a duplicate means the step ran already and raises (never twice)."""
    session.add(
        StepRun(
            enrolment_id=e.id,
            version_id=e.version_id,
            step_id=step_id,
            iteration=e.iteration,
            outcome=outcome,
            detail=detail,
            at=now,
        )
    )
    session.flush()


def resume(session: Session, e: Enrolment, target: str | None, outcome: str, now: datetime):
    """End a wait: note how it ended on its run row, count the wait, move to the target."""
    session.execute(
        update(StepRun)
        .where(
            StepRun.version_id == e.version_id,
            StepRun.step_id == e.step_id,
            StepRun.enrolment_id == e.id,
            StepRun.iteration == e.iteration,
        )
        .values(outcome=outcome)
    )
    e.iteration += 1
    move(e, target, now)


def move(e: Enrolment, target: str | None, now: datetime) -> None:
    """Go to a step, due now; no step left completes the enrolment."""
    if target is None:
        finish(e, "completed", "end", now)
        return
    e.step_id, e.state, e.due_at, e.step_entered_at = target, "active", now, now


def finish(e: Enrolment, state: str, reason: str, now: datetime) -> None:
    """A final state with its reason."""
    e.state, e.exit_reason, e.finished_at, e.due_at = state, reason, now, None


def _key(e: Enrolment, step_id: str) -> str:
    """The idempotency key of a step for an enrolment."""
    return f"{e.version_id}:{step_id}:{e.id}:{e.iteration}"


def _wait(e: Enrolment, until: datetime, now: datetime) -> None:
    """Park the enrolment at its wait step until a time."""
    e.state, e.due_at, e.step_entered_at = "waiting", until, now


def matches(session: Session, rules_json: dict, customer_id: int, now: datetime) -> bool:
    """Whether one customer meets a rule tree now (the segment compiler, restricted)."""
    query = segments.matching(
        session=session, rules_json=rules_json, customer_ids=[customer_id], now=now
    )
    return session.scalar(query) is not None


def _update_profile(session: Session, customer: Customer, fields: dict, now: datetime) -> dict:
    """Set attributes and add or remove tags (the `tags` attribute) through customers."""
    attributes = dict(fields["attributes"])
    if fields["add_tags"] or fields["remove_tags"]:
        tags = list((customer.attributes or {}).get("tags") or [])
        tags = [t for t in tags if t not in fields["remove_tags"]]
        tags += [t for t in fields["add_tags"] if t not in tags]
        attributes["tags"] = tags
    customers.update_customer(
        session=session, customer_id=customer.id, profile={"attributes": attributes}, now=now
    )
    return {"attributes": sorted(attributes)}


def run_step(
    session: Session, e: Enrolment, d: definition.Definition, customer: Customer, now, batch
) -> bool:
    """Run the enrolment's current step; True when it moved on at once (the chain goes on)."""
    step = d.steps[e.step_id]
    f, kind = step.fields, step.type
    if kind == "send":
        row, _ = messages.queue_message(
            session=session,
            customer_id=customer.id,
            template_id=f["template_id"],
            kind=f["kind"],
            channel=f["channel"],
            source=SOURCE,
            source_id=e.version_id,
            occurrence=f"{step.id}:{e.id}:{e.iteration}",
            now=now,
        )
        batch.kinds.add(f["kind"])
        record_run(session, e, step.id, "sent", now, {"outbox_id": row.id})
    elif kind == "wait":
        record_run(session, e, step.id, "waiting", now)
        _wait(e, now + timedelta(seconds=f["seconds"]), now)
        return False
    elif kind == "wait_until":
        record_run(session, e, step.id, "waiting", now)
        until = rules.next_local_time(
            now, zone_name=customer.time_zone, at=f["at"], weekdays=f["weekdays"]
        )
        _wait(e, until, now)
        return False
    elif kind == "wait_for":
        record_run(session, e, step.id, "waiting", now)
        _wait(e, now + timedelta(seconds=f["timeout_seconds"]), now)
        if f["condition"] is not None and matches(session, f["condition"], customer.id, now):
            resume(session, e, f["happened"], "happened", now)
            return True
        return False
    elif kind == "branch":
        yes = matches(session, f["rules"], customer.id, now)
        record_run(session, e, step.id, "yes" if yes else "no", now)
        move(e, f["yes"] if yes else f["no"], now)
        return True
    elif kind == "split":
        value = rules.bucket(e.journey_id, step.id, customer.id)
        index = rules.split_branch([b["percent"] for b in f["branches"]], value)
        record_run(session, e, step.id, f"branch {index}", now, {"bucket": value})
        move(e, f["branches"][index]["next"], now)
        return True
    elif kind == "update_profile":
        detail = _update_profile(session, customer, f, now)
        record_run(session, e, step.id, "updated", now, detail)
    elif kind in effects.KINDS:
        key = _key(e, step.id)
        detail = effects.perform(session, kind, e=e, step=step, customer=customer, key=key, now=now)
        record_run(session, e, step.id, definition.DONE_OUTCOME[kind], now, detail)
    elif kind == "exit":
        record_run(session, e, step.id, "exit", now)
        finish(e, "completed", "exit step", now)
        return False
    else:
        contributed = steps.contributed()[kind]
        detail = contributed.perform(
            session=session, customer_id=customer.id, fields=f, key=_key(e, step.id), now=now
        )
        record_run(session, e, step.id, "done", now, detail)
    move(e, step.next, now)
    return True


def advance(session: Session, e: Enrolment, d: definition.Definition, customer, now, batch):
    """Run the enrolment's due steps until it waits or ends."""
    for _ in range(MAX_CHAIN):
        if e.state not in rules.LIVE_STATES or e.due_at is None or e.due_at > now:
            return
        step = d.steps[e.step_id]
        batch.steps += 1
        if e.state == "waiting":
            label = "timed_out" if step.type == "wait_for" else "next"
            resume(session, e, step.targets()[label], label if label != "next" else "done", now)
            continue
        if not run_step(session, e, d, customer, now, batch):
            return
    raise RuntimeError(f"more than {MAX_CHAIN} steps in one go")


def _fail(e: Enrolment, exc: Exception, now: datetime) -> None:
    """Count a failed attempt: retry later, or park the enrolment failed with the reason."""
    e.attempts += 1
    e.last_error = f"{type(exc).__name__}: {exc}"[:4000]
    if e.attempts >= MAX_ATTEMPTS:
        finish(e, "failed", "step failed", now)
    else:
        e.due_at = now + rules.retry_delay(e.attempts)


def _definition(session: Session, batch: Batch, version_id: int) -> definition.Definition:
    """A version's parsed definition, once per batch."""
    if version_id not in batch.definitions:
        raw = session.get(JourneyVersion, version_id).definition
        batch.definitions[version_id] = steps.parse(raw)
    return batch.definitions[version_id]


def _run_one(session: Session, e: Enrolment, batch: Batch, now: datetime) -> None:
    """One enrolment under a savepoint; a failure is recorded on it, not raised."""
    try:
        with session.begin_nested():
            customer = session.get(Customer, e.customer_id)
            if customer is None:
                finish(e, "exited", "customer deleted", now)
            else:
                advance(session, e, _definition(session, batch, e.version_id), customer, now, batch)
                e.attempts, e.last_error = 0, None
            session.flush()
    except Exception as exc:  # the step is retried; the other enrolments go on
        log.warning("journey enrolment %s failed at %s: %s", e.id, e.step_id, exc)
        session.refresh(e)
        _fail(e, exc, now)
    e.lease_owner, e.lease_until = None, None


def run_batch(
    sessions: sessionmaker[Session],
    *,
    now: datetime,
    worker: str | None = None,
    limit: int = BATCH,
    lease_seconds: int = LEASE_SECONDS,
):
    """Claim and run one batch of due enrolments; returns (enrolments, steps).

    Simple steps run set-based (`fast`); the enrolments it hands back run one at a time.
    """
    worker = worker or uuid.uuid4().hex
    with transaction(sessions) as session:
        ids = claim(session, worker=worker, now=now, limit=limit, lease_seconds=lease_seconds)
    if not ids:
        return 0, 0
    batch = Batch()
    with transaction(sessions) as session:
        query = select(Enrolment).where(Enrolment.id.in_(ids), Enrolment.lease_owner == worker)
        held = list(session.scalars(query.order_by(Enrolment.id).with_for_update()))
        # A lost lease (taken over after expiry) leaves the row to its taker.
        for e in fast.run(session, held, batch, now):
            _run_one(session, e, batch, now)
        for kind in sorted(batch.kinds):
            messages.wake_lane(session=session, kind=kind, now=now)
    return len(held), batch.steps


def run_due(sessions: sessionmaker[Session], *, now: datetime, rounds: int = 50) -> int:
    """Run batches until nothing is due (or `rounds` batches); returns enrolments handled."""
    total = 0
    for _ in range(rounds):
        handled, _steps = run_batch(sessions, now=now)
        total += handled
        if handled == 0:
            break
    return total


def wake(session: Session, *, now: datetime) -> None:
    """Enqueue the steps job now (one waiting job suffices)."""
    jobs.enqueue(
        session=session,
        kind=STEPS_JOB,
        payload={},
        run_at=now,
        now=now,
        dedupe_key=f"{STEPS_JOB}:wake",
        queue="default",
        max_attempts=3,
    )


def steps_job(*, ctx, now: datetime, payload: dict) -> str:
    """The `journeys.steps` job: batches of due enrolments, with the job's clock."""
    handled = 0
    for _ in range(50):
        count, _steps = run_batch(ctx.sessions, now=ctx.clock())
        handled += count
        if count == 0:
            break
    return f"{handled} enrolments"
