"""Job handlers used by the worker tests (imported by worker subprocesses)."""

from __future__ import annotations

import time

from patron.jobs import service as jobs

FAR_FUTURE_DAYS = 3650


def record_effect(*, session, now, payload):
    """Leave one durable 'effect' row per run, then linger to widen the kill window."""
    from datetime import timedelta

    jobs.enqueue(
        session=session,
        kind="effect",
        payload={"n": payload["n"]},
        run_at=now + timedelta(days=FAR_FUTURE_DAYS),
        now=now,
    )
    time.sleep(payload.get("sleep", 0))


def explode(*, session, now, payload):
    """Always fail."""
    raise RuntimeError("boom")
