"""What a job with outside effects gets: its own transactions and once-only effects.

An outside effect (SMTP, HTTP) never runs inside a database transaction. `effect(key, perform)`
first commits a `started` row under the key (fenced by the job's lease, so a worker that lost
its job does not act), then performs, then records the outcome. If a retry finds the key
`started`, the earlier worker died between acting and recording: nobody can know whether the
effect happened, so it is marked `uncertain` and never performed again. `perform` raises
`NotPerformed` when it knows nothing happened (connection refused, a refusal reply); the key
is then released so that a retry may act.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from patron.db import transaction
from patron.jobs import service as jobs
from patron.jobs.tables import JobEffect


class NotPerformed(Exception):
    """The effect certainly did not happen; it is safe to try again later."""


class LeaseLost(Exception):
    """Another worker took the job over: this attempt must stop and roll back."""


@dataclass(frozen=True)
class EffectResult:
    """How an effect ended: done (now or earlier), uncertain, or not performed."""

    state: str
    outcome: dict = field(default_factory=dict)
    repeated: bool = False


@dataclass
class JobContext:
    """A claimed job's handle on the database and on its outside effects."""

    sessions: sessionmaker[Session]
    job: jobs.ClaimedJob
    clock: Callable[[], datetime]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction that commits only while this job still holds its lease."""
        with transaction(self.sessions) as session:
            yield session
            if not jobs.holds(session=session, job=self.job):
                raise LeaseLost(f"job {self.job.id} was taken over")

    def effect(self, key: str, perform: Callable[[], dict | None]) -> EffectResult:
        """Performs an outside effect at most once under key; see the module docstring."""
        earlier = self._start(key)
        if earlier is not None:
            return earlier
        try:
            outcome = perform() or {}
        except NotPerformed as exc:
            self._release(key)
            raise exc
        except Exception as exc:  # it may or may not have happened: never repeat it
            self._finish(key, "uncertain", {"error": f"{type(exc).__name__}: {exc}"[:2000]})
            return EffectResult("uncertain", {"error": str(exc)[:2000]})
        self._finish(key, "done", outcome)
        return EffectResult("done", outcome)

    def _start(self, key: str) -> EffectResult | None:
        """Records `started`; returns the earlier result when the key was used already."""
        with self.transaction() as session:
            row = session.get(JobEffect, key, with_for_update=True)
            if row is None:
                session.add(
                    JobEffect(key=key, job_id=self.job.id, state="started", started_at=self.clock())
                )
                return None
            if row.state == "started":
                row.state, row.finished_at = "uncertain", self.clock()
                row.outcome = {"error": "the worker stopped between acting and recording"}
            return EffectResult(row.state, dict(row.outcome or {}), repeated=True)

    def _finish(self, key: str, state: str, outcome: dict) -> None:
        """Records how the effect ended (even if the lease has meanwhile been lost)."""
        with transaction(self.sessions) as session:
            session.execute(
                update(JobEffect)
                .where(JobEffect.key == key)
                .values(state=state, outcome=outcome, finished_at=self.clock())
            )

    def _release(self, key: str) -> None:
        """Forgets a key whose effect certainly did not happen."""
        with transaction(self.sessions) as session:
            session.execute(delete(JobEffect).where(JobEffect.key == key))
