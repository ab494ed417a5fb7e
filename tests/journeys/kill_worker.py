"""A journey worker process for the kill test: due steps, small batches, a short lease."""

from __future__ import annotations

import sys
import time

from sqlalchemy import func, select

from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.journeys import engine
from patron.journeys.tables import Enrolment

LEASE_SECONDS = 2
LIMIT = 25


def main(url: str) -> None:
    """Run batches until no enrolment is live."""
    sessions = make_sessionmaker(make_engine(url))
    while True:
        handled, _ = engine.run_batch(
            sessions, now=utcnow(), limit=LIMIT, lease_seconds=LEASE_SECONDS
        )
        if handled:
            continue
        with transaction(sessions) as s:
            live = select(func.count()).where(Enrolment.state.in_(("active", "waiting")))
            if not s.scalar(live):
                return
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1])
