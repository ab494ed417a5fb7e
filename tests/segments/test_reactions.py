"""Segments react to a score refresh through the event log: a recompute job, not a direct call."""

from __future__ import annotations

from sqlalchemy import func, select

from patron.analytics.read import CustomerScore
from patron.analytics.refresh import refresh
from patron.db import transaction
from patron.jobs import worker
from patron.jobs.tables import Job
from patron.segments import service
from tests.analytics.shop import Sale, load_shop
from tests.factories import at

STAGE_RULE = {"type": "score", "field": "lifecycle_stage", "op": "eq", "value": "loyal"}


def test_a_refresh_recomputes_segments_through_a_job_started_by_its_event(db):
    sales = [Sale(f"r{c:02d}", day) for c in range(12) for day in (0, 30, 60, 90, 120)]
    with transaction(db.sessions) as s:
        load_shop(s, sales)
        segment = service.create_segment(
            session=s, name="Loyal", description="", rules_json=STAGE_RULE, now=at(0)
        )
    refresh(sessions=db.sessions, now=at(125))
    with transaction(db.sessions) as s:
        loyal = s.scalar(select(func.count()).where(CustomerScore.lifecycle_stage == "loyal"))
        assert loyal > 0
        assert service.get_segment(session=s, segment_id=segment.id).member_count == 0
    assert worker.pump_events(db.sessions) >= 1  # the consumer enqueues the recompute
    with transaction(db.sessions) as s:
        [job] = s.scalars(select(Job).where(Job.kind == "segments.recompute")).all()
        assert job.queue == "bulk" and job.state == "pending"
    worker.drain(db.sessions, db.settings())
    with transaction(db.sessions) as s:
        assert service.get_segment(session=s, segment_id=segment.id).member_count == loyal
        assert s.scalar(select(Job.state).where(Job.kind == "segments.recompute")) == "done"
