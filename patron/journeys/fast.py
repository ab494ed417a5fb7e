"""Set-based fast path of the engine: simple steps of a whole batch, a statement per group.

The enrolments of a batch are grouped by (version, step, state). A group waiting at any wait
step resumes together; an active group at a `send`, `wait` or `exit` step runs together: one
multi-row INSERT into the outbox (through messages, ON CONFLICT DO NOTHING on its unique
occurrence), one multi-row INSERT of step-run rows (unique on version, step, enrolment,
iteration: a step run before raises, never runs twice) and the advance, flushed as one
executemany. Rounds repeat while enrolments move on to steps due now. Enrolments reaching any
other step are handed back, in their committed state, to the per-enrolment path. Everything
runs under one savepoint: if it fails the batch is rolled back to it and the per-enrolment
path (a savepoint each, retries) runs it all, so the guarantees are the same on both paths.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.journeys import bulk, engine, rules
from patron.journeys.tables import Enrolment
from patron.messages import service as messages

log = logging.getLogger("patron.journeys")
SIMPLE = frozenset({"send", "wait", "exit"})


def _group(held: list[Enrolment], now: datetime) -> dict[tuple, list[Enrolment]]:
    """Due live enrolments by (version, step, state)."""
    groups: dict[tuple, list[Enrolment]] = defaultdict(list)
    for e in held:
        if e.state in rules.LIVE_STATES and e.due_at is not None and e.due_at <= now:
            groups[(e.version_id, e.step_id, e.state)].append(e)
    return groups


def _runs(session: Session, group, step_id: str, outcome: str, now, details=None) -> None:
    """One INSERT of the group's step-run rows."""
    bulk.insert_runs(session, bulk.run_rows(group, step_id, outcome, now, details))


def _resume(session: Session, group, step, now: datetime) -> None:
    """End the group's wait: mark its run rows, count the wait, go on to the target."""
    label = "timed_out" if step.type == "wait_for" else "next"
    bulk.mark_runs(session, group, label if label != "next" else "done")
    for e in group:
        e.iteration += 1
        engine.move(e, step.targets()[label], now)


def _send(session: Session, group, step, now: datetime, batch) -> None:
    """Queue the group's messages in one statement, then its run rows."""
    f = step.fields
    occurrences = {e.id: f"{step.id}:{e.id}:{e.iteration}" for e in group}
    ids = messages.queue_messages_many(
        session=session,
        rows=[(e.customer_id, occurrences[e.id]) for e in group],
        template_id=f["template_id"],
        kind=f["kind"],
        channel=f["channel"],
        source=engine.SOURCE,
        source_id=group[0].version_id,
        now=now,
    )
    batch.kinds.add(f["kind"])
    details = {e.id: {"outbox_id": ids[occurrences[e.id]]} for e in group}
    _runs(session, group, step.id, "sent", now, details)
    for e in group:
        engine.move(e, step.next, now)


def _run_group(session: Session, group, step, state: str, now, batch) -> bool:
    """Run one group's step set-based; False when it is not a simple step."""
    if state == "waiting":
        _resume(session, group, step, now)
    elif step.type == "send":
        _send(session, group, step, now, batch)
    elif step.type == "wait":
        _runs(session, group, step.id, "waiting", now)
        until = now + timedelta(seconds=step.fields["seconds"])
        for e in group:
            engine._wait(e, until, now)
    elif step.type == "exit":
        _runs(session, group, step.id, "exit", now)
        for e in group:
            engine.finish(e, "completed", "exit step", now)
    else:
        return False
    batch.steps += len(group)
    return True


def _advance(session: Session, held: list[Enrolment], batch, now: datetime) -> list[Enrolment]:
    """Rounds of set-based groups; returns the enrolments left to the per-enrolment path."""
    present = set(
        session.scalars(select(Customer.id).where(Customer.id.in_([e.customer_id for e in held])))
    )
    rest: list[Enrolment] = []
    live = []
    for e in held:
        if e.customer_id not in present:
            engine.finish(e, "exited", "customer deleted", now)
        else:
            live.append(e)
    for _ in range(engine.MAX_CHAIN):
        groups = _group(live, now)
        if not groups:
            return rest
        live = []
        for (version_id, step_id, state), group in sorted(groups.items()):
            step = engine._definition(session, batch, version_id).steps[step_id]
            if _run_group(session, group, step, state, now, batch):
                live.extend(group)
            else:
                rest.extend(group)
    return rest + live


def run(session: Session, held: list[Enrolment], batch, now: datetime) -> list[Enrolment]:
    """Run the batch's simple steps set-based; returns the enrolments the slow path must run."""
    if not held:
        return []
    try:
        with session.begin_nested(), session.no_autoflush:
            rest = _advance(session, held, batch, now)
            handed = {e.id for e in rest}
            done = [e for e in held if e.id not in handed]
            bulk.advance(session, done)
            for e in done:  # written: the session must not write them again
                session.expunge(e)
            session.flush()  # the handed-back ones, as far as they got
    except Exception as exc:  # the per-enrolment path runs the batch with its own savepoints
        log.warning("journey batch fell back to one enrolment at a time: %s", exc)
        batch.kinds.clear()
        batch.steps = 0
        for e in held:
            if e not in session:
                session.add(e)
            session.refresh(e)
        return held
    return rest
