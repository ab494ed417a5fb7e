"""A test capability loaded through PATRON_PLUGINS: a consumer that records what it handles."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from patron.jobs import service as jobs
from patron.manifest import Consumer, Manifest

SEEN = "test.seen"


def record(*, session, events, now):
    """Leave one far-future job row per handled event, then linger to widen a kill window."""
    for event in events:
        jobs.enqueue(
            session=session,
            kind=SEEN,
            payload={"event_id": event.id},
            run_at=now + timedelta(days=3650),
            now=now,
        )
    time.sleep(float(os.environ.get("TEST_CONSUMER_SLEEP", "0")))


manifest = Manifest(
    name="test-recorder",
    consumers=(Consumer("test.recorder", frozenset({"test.happened"}), record, batch=5),),
)
