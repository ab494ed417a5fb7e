"""Recording exposures: set-based over arrays for a broadcast, from step runs for a journey."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import orjson
from sqlalchemy import bindparam, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patron.experiments import rules
from patron.experiments.tables import Experiment, Exposure
from patron.journeys import read as journeys_read


def arms_of(row: Experiment) -> list[rules.Arm]:
    """The stored arms."""
    return [rules.Arm(**a) for a in row.arms]


def insert_rows(session: Session, rows: list[dict]) -> None:
    """Record exposures with their own times; a customer already recorded keeps the first."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    builder = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect, insert)
    session.execute(builder(Exposure).on_conflict_do_nothing(), rows)


_COLUMNS = (
    "INSERT INTO experiment_exposures (experiment_id, customer_id, arm, phase, exposed_at,"
    " window_ends_at, pre_starts_at) "
)
_ARRAYS = {
    # One statement over three arrays: no per-row parameters.
    "postgresql": _COLUMNS + "SELECT :eid, u.c, u.a, u.p, :at, :ends, :pre FROM unnest("
    "CAST(:c AS bigint[]), CAST(:a AS text[]), CAST(:p AS text[])) AS u(c, a, p)"
    " ON CONFLICT DO NOTHING",
    "sqlite": _COLUMNS + "SELECT :eid, c.value, a.value, p.value, :at, :ends, :pre"
    " FROM json_each(:c) AS c JOIN json_each(:a) AS a ON a.key = c.key"
    " JOIN json_each(:p) AS p ON p.key = c.key WHERE true ON CONFLICT DO NOTHING",
}


def pack(values: np.ndarray, dialect: str):
    """An array parameter: a list for PostgreSQL, a JSON array for SQLite's json_each."""
    listed = values.tolist()
    return listed if dialect == "postgresql" else orjson.dumps(listed).decode()


def expose(
    session: Session, row: Experiment, ids: np.ndarray, arms: np.ndarray, phases, at: datetime
) -> None:
    """Record exposures exposed at one time, set-based: one INSERT ... SELECT over arrays."""
    if len(ids) == 0:
        return
    window = timedelta(days=row.window_days)
    phases = np.broadcast_to(np.asarray(phases), ids.shape)
    dialect = session.get_bind().dialect.name
    times = [bindparam(n, type_=Exposure.exposed_at.type) for n in ("at", "ends", "pre")]
    params = dict(eid=row.id, at=at, ends=at + window, pre=at - window)
    params.update(
        c=pack(ids.astype(np.int64), dialect),
        a=pack(arms.astype(str), dialect),
        p=pack(phases.astype(str), dialect),
    )
    session.execute(text(_ARRAYS[dialect]).bindparams(*times), params)


def sync_journey(session: Session, row: Experiment) -> None:
    """Record the exposures of a journey split: its arms' branches and the holdout branch."""
    runs = session.execute(
        journeys_read.split_runs(journey_id=row.journey_id, step_id=row.step_id)
    ).all()
    by_branch = {a.branch: a.key for a in arms_of(row)}
    if row.holdout_branch is not None:
        by_branch[row.holdout_branch] = rules.HOLDOUT_KEY
    window = timedelta(days=row.window_days)
    rows = [
        dict(
            experiment_id=row.id,
            customer_id=customer_id,
            arm=by_branch[int(branch)],
            phase="holdout" if by_branch[int(branch)] == rules.HOLDOUT_KEY else "test",
            exposed_at=at,
            window_ends_at=at + window,
            pre_starts_at=at - window,
        )
        for customer_id, branch, at in runs
        if int(branch) in by_branch
    ]
    insert_rows(session, rows)
