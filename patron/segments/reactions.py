"""How segments react to other capabilities' events: a full recompute after a score refresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from patron.jobs import service as jobs
from patron.segments import service
from patron.segments.tables import Segment

RECOMPUTE_JOB = "segments.recompute"


def on_scores_refreshed(*, session, events, now: datetime) -> None:
    """Enqueue one recompute of every segment (a pending one already covers new refreshes)."""
    jobs.enqueue(
        session=session,
        kind=RECOMPUTE_JOB,
        payload={"after": events[-1].data.get("computed_at")},
        run_at=now,
        now=now,
        dedupe_key=RECOMPUTE_JOB,
        queue="bulk",
        max_attempts=3,
    )


def recompute_job(*, ctx, now: datetime, payload: dict) -> None:
    """Recompute every segment, each in a transaction of its own (short write locks)."""
    with ctx.transaction() as session:
        service.ensure_builtin_segments(session=session, now=now)
        ids = list(session.scalars(select(Segment.id).order_by(Segment.id)))
    for segment_id in ids:
        with ctx.transaction() as session:
            if session.get(Segment, segment_id) is not None:
                service.refresh_segment(session=session, segment_id=segment_id, now=now)
