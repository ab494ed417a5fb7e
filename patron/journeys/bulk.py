"""Bulk writes of the fast path: step-run rows and enrolment advances, a statement per set.

On PostgreSQL each is one statement over unnest()ed arrays (a handful of parameters however
many rows, so no per-row parsing or round trip); on SQLite an executemany, which is in-process.
"""

from __future__ import annotations

import json

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from patron.journeys.tables import Enrolment, StepRun

RUNS = StepRun.__table__
COLUMNS = dict(
    e="enrolment_id", v="version_id", s="step_id", i="iteration", o="outcome", d="detail", at="at"
)
ENROLMENTS = Enrolment.__table__
INSERT_RUNS = text(
    "INSERT INTO journey_step_runs (enrolment_id, version_id, step_id, iteration, outcome,"
    " detail, at) SELECT u.e, u.v, u.s, u.i, u.o, u.d::jsonb, u.at FROM unnest("
    "CAST(:e AS bigint[]), CAST(:v AS bigint[]), CAST(:s AS text[]), CAST(:i AS int[]),"
    " CAST(:o AS text[]), CAST(:d AS text[]), CAST(:at AS timestamptz[]))"
    " AS u(e, v, s, i, o, d, at)"
)
RUN_OUTCOMES = text(
    "UPDATE journey_step_runs AS r SET outcome = :o FROM unnest(CAST(:e AS bigint[]),"
    " CAST(:i AS int[])) AS u(e, i) WHERE r.version_id = :v AND r.step_id = :s"
    " AND r.enrolment_id = u.e AND r.iteration = u.i"
)
ADVANCE = text(
    "UPDATE journey_enrolments AS e SET step_id = u.step_id, state = u.state, due_at = u.due_at,"
    " iteration = u.iteration, step_entered_at = u.step_entered_at, exit_reason = u.reason,"
    " finished_at = u.finished_at, attempts = 0, last_error = NULL, lease_owner = NULL,"
    " lease_until = NULL FROM unnest(CAST(:id AS bigint[]), CAST(:step_id AS text[]),"
    " CAST(:state AS text[]), CAST(:due_at AS timestamptz[]), CAST(:iteration AS int[]),"
    " CAST(:step_entered_at AS timestamptz[]), CAST(:reason AS text[]),"
    " CAST(:finished_at AS timestamptz[])) AS u(id, step_id, state, due_at, iteration,"
    " step_entered_at, reason, finished_at) WHERE e.id = u.id"
)


def _postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_runs(session: Session, rows: list[dict]) -> None:
    """Insert step-run rows (a duplicate key raises: the step ran already)."""
    if not rows:
        return
    if not _postgres(session):
        named = [{COLUMNS[k]: v for k, v in r.items()} for r in rows]
        session.connection().execute(insert(RUNS), named)
        return
    arrays = {k: [r[k] for r in rows] for k in ("e", "v", "s", "i", "o", "at")}
    arrays["d"] = [None if r["d"] is None else json.dumps(r["d"]) for r in rows]
    session.connection().execute(INSERT_RUNS, arrays)


def run_rows(group, step_id: str, outcome: str, now, details=None) -> list[dict]:
    """The step-run rows of a group."""
    return [
        dict(
            e=e.id,
            v=e.version_id,
            s=step_id,
            i=e.iteration,
            o=outcome,
            d=details[e.id] if details else None,
            at=now,
        )
        for e in group
    ]


def mark_runs(session: Session, group, outcome: str) -> None:
    """Set the outcome of the group's current run rows (same version and step)."""
    head = group[0]
    if _postgres(session):
        params = dict(
            o=outcome,
            v=head.version_id,
            s=head.step_id,
            e=[e.id for e in group],
            i=[e.iteration for e in group],
        )
        connection = session.connection()
        # The unique index answers each pair; without it a planner that still believes the
        # fast-growing table small loops over it for every row (seconds a batch).
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(RUN_OUTCOMES, params)
        connection.execute(text("SET LOCAL enable_seqscan = on"))
        return
    c = RUNS.c
    statement = (
        update(RUNS)
        .where(
            c.version_id == head.version_id,
            c.step_id == head.step_id,
            c.enrolment_id == bindparam("e"),
            c.iteration == bindparam("i"),
        )
        .values(outcome=outcome)
    )
    session.connection().execute(statement, [dict(e=e.id, i=e.iteration) for e in group])


def advance(session: Session, done) -> None:
    """Write the enrolments' new places and free their leases, in one statement."""
    if not done:
        return
    fields = ("id", "step_id", "state", "due_at", "iteration", "step_entered_at")
    rows = [
        {
            **{f: getattr(e, f) for f in fields},
            "reason": e.exit_reason,
            "finished_at": e.finished_at,
        }
        for e in done
    ]
    if _postgres(session):
        session.connection().execute(ADVANCE, {k: [r[k] for r in rows] for k in rows[0]})
        return
    c = ENROLMENTS.c
    statement = (
        update(ENROLMENTS)
        .where(c.id == bindparam("eid"))
        .values(
            step_id=bindparam("p_step_id"),
            state=bindparam("p_state"),
            due_at=bindparam("p_due_at", type_=c.due_at.type),
            iteration=bindparam("p_iteration"),
            step_entered_at=bindparam("p_step_entered_at", type_=c.step_entered_at.type),
            exit_reason=bindparam("p_reason"),
            finished_at=bindparam("p_finished_at", type_=c.finished_at.type),
            attempts=0,
            last_error=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    params = [{("eid" if k == "id" else f"p_{k}"): v for k, v in r.items()} for r in rows]
    session.connection().execute(statement, params)
