"""Racing starts and racing decision jobs on PostgreSQL: one wins, the rest change nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from patron.db import transaction
from patron.errors import InvalidInput
from patron.experiments import service
from patron.experiments.tables import Exposure
from patron.messages.tables import OutboxMessage
from tests.experiments.conftest import audience
from tests.messages.conftest import NOW


def _race(n: int, action) -> list:
    """Run action(i) in n threads released together; their results or exceptions."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_racing_starts_and_decisions_assign_and_send_once(pg_db):
    db = pg_db
    setup = audience(db, 40)
    arms = [
        {"key": "A", "percent": 50, "template_id": setup["a"]},
        {"key": "B", "percent": 50, "template_id": setup["b"]},
    ]
    with transaction(db.sessions) as s:
        eid = service.create(
            s,
            name="race",
            kind="broadcast",
            arms=arms,
            segment_ids=[setup["segment"]],
            holdout_percent=10,
            test_percent=50,
            salt="race",
            now=NOW,
        ).id

    def start(_i):
        with transaction(db.sessions) as s:
            return service.start(s, experiment_id=eid, now=NOW).state

    started = _race(4, start)
    assert started.count("testing") == 1
    assert all(isinstance(r, InvalidInput) for r in started if r != "testing")

    def decide(_i):
        with transaction(db.sessions) as s:
            return service.decide(s, experiment_id=eid, now=NOW + timedelta(hours=30)).decision

    decisions = _race(4, decide)
    assert len(set(decisions)) == 1 and decisions[0].count("sent to the remaining") == 1
    with transaction(db.sessions) as s:
        exposed = s.scalar(
            select(func.count()).select_from(Exposure).where(Exposure.arm != "holdout")
        )
        queued = s.scalar(select(func.count()).select_from(OutboxMessage))
        customers = s.scalar(select(func.count(func.distinct(OutboxMessage.customer_id))))
    assert queued == exposed == customers
