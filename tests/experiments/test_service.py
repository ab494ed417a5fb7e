"""Broadcast experiments end to end: assignment, one message each, the decision job, reports."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from patron.db import transaction
from patron.errors import InvalidInput
from patron.experiments import service
from patron.experiments.tables import Exposure
from patron.jobs.tables import Job
from patron.messages.config import MessageConfig
from patron.messages.tables import CapturedMessage
from tests.experiments.conftest import audience, buy, captured, outbox_rows
from tests.messages.conftest import NOW, SECRET, run_lane
from tests.webhooks.conftest import run_due_jobs

CAPTURE = MessageConfig(secret_key=SECRET, lease_seconds=60)
LATER = NOW + timedelta(hours=25)


def _experiment(db, setup: dict, **fields) -> int:
    arms = [
        {"key": "A", "percent": 50, "template_id": setup["a"]},
        {"key": "B", "percent": 50, "template_id": setup["b"], "offer": {"code": "SAVE10"}},
    ]
    values = dict(
        name="Spring",
        kind="broadcast",
        arms=arms,
        segment_ids=[setup["segment"]],
        holdout_percent=10,
        test_percent=50,
        decide_after_hours=24,
        salt="fixed-salt",
    )
    values.update(fields)
    with transaction(db.sessions) as s:
        row = service.create(s, now=NOW, **values)
        service.start(s, experiment_id=row.id, now=NOW)
        return row.id


def _exposures(db, experiment_id: int) -> dict[int, tuple[str, str]]:
    with transaction(db.sessions) as s:
        rows = s.execute(
            select(Exposure.customer_id, Exposure.arm, Exposure.phase).where(
                Exposure.experiment_id == experiment_id
            )
        ).all()
    return {c: (arm, phase) for c, arm, phase in rows}


def test_a_winner_is_sent_to_the_rest_and_nobody_gets_two_variants(sqlite_db):
    db = sqlite_db
    setup = audience(db, 160)
    eid = _experiment(db, setup)
    exposed = _exposures(db, eid)
    arms = Counter(arm for arm, _p in exposed.values())
    assert 6 <= arms["holdout"] <= 30 and 50 <= arms["A"] + arms["B"] <= 100
    with transaction(db.sessions) as s:  # the durable decision job waits for the horizon
        job = s.scalar(select(Job).where(Job.kind == service.DECIDE_JOB))
        assert job.run_at == NOW + timedelta(hours=24) and job.payload == {"experiment_id": eid}
    run_lane(db, CAPTURE, "bulk")
    got = captured(db)
    for customer_id, (arm, _phase) in exposed.items():
        address = f"c{customer_id - 1}@example.com"
        assert got.get(address) == ({"A": ["Subject A"], "B": ["Subject B"]}.get(arm))
    with transaction(db.sessions) as s:  # B's offer reached its template as data.code
        html = dict(s.execute(select(CapturedMessage.subject, CapturedMessage.html)).all())
        assert "SAVE10" in html["Subject B"] and "SAVE10" not in html["Subject A"]
    with transaction(db.sessions) as s:  # most of B's recipients buy, few of A's
        for customer_id, (arm, _p) in exposed.items():
            if (arm == "B" and customer_id % 5) or (arm == "A" and customer_id % 10 == 0):
                buy(s, customer_id, 1, total=3000 + 100 * (customer_id % 7))
    with transaction(db.sessions) as s:
        early = service.report(s, experiment_id=eid, now=NOW + timedelta(hours=3))
        assert early["verdict"]["winner"] is None and "too early" in early["verdict"]["text"]
        row = service.decide(s, experiment_id=eid, now=LATER)
        assert row.winner == "B" and row.decision.startswith("B wins: +"), row.decision
    run_lane(db, CAPTURE, "bulk", now=LATER)
    got = captured(db)
    final = _exposures(db, eid)
    for customer_id in setup["ids"]:
        arm, phase = final[customer_id]
        subjects = got.get(f"c{customer_id - 1}@example.com")
        if arm == "holdout":
            assert subjects is None
        else:
            assert subjects == ["Subject A" if arm == "A" else "Subject B"], (arm, phase)
    assert Counter(p for _a, p in final.values())["rollout"] > 50
    assert all(r.source == "experiment" for r in outbox_rows(db))
    with transaction(db.sessions) as s:
        report = service.report(s, experiment_id=eid, now=LATER)
    assert report["incrementality"]["low"] > 0
    assert [a["key"] for a in report["arms"]] == ["A", "B", "holdout", "rollout"]


def test_no_clear_winner_sends_the_control_and_says_so(db):
    setup = audience(db, 60)
    eid = _experiment(db, setup, holdout_percent=0)
    run_due_jobs(db, NOW + timedelta(hours=23))  # the decision job is not due yet
    with transaction(db.sessions) as s:
        assert service.get(s, experiment_id=eid).state == "testing"
    run_due_jobs(db, LATER)  # the durable job, through the worker's handler
    with transaction(db.sessions) as s:
        row = service.get(s, experiment_id=eid)
        assert row.state == "decided" and row.winner == "A"
        assert row.decision.startswith("no clear winner, so the control A is sent")
        assert service.decide(s, experiment_id=eid, now=LATER).decision == row.decision
    rollout = [
        t
        for c, src, t, state, _r in outbox_rows(db)
        if c in {c for c, (_a, p) in _exposures(db, eid).items() if p == "rollout"}
    ]
    assert rollout and set(rollout) == {setup["a"]}


def test_a_mismatched_split_is_flagged(sqlite_db):
    db = sqlite_db
    setup = audience(db, 120)
    eid = _experiment(db, setup, holdout_percent=0, test_percent=100)
    with transaction(db.sessions) as s:
        assert not service.report(s, experiment_id=eid, now=NOW)["srm"]["mismatch"]
        lost = s.scalars(
            select(Exposure.customer_id).where(Exposure.experiment_id == eid, Exposure.arm == "B")
        ).all()[:40]
        s.execute(delete(Exposure).where(Exposure.customer_id.in_(lost)))
        assert service.report(s, experiment_id=eid, now=NOW)["srm"]["mismatch"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(segment_ids=[]), "at least one segment"),
        (dict(segment_ids=[999]), "no segment with id 999"),
        (dict(holdout_percent=80), "holdout_percent"),
        (dict(metric="opens"), "metric"),
        (dict(arms=[{"key": "A", "percent": 100, "template_id": 1}]), "one arm needs a holdout"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_written(sqlite_db, fields, message):
    setup = audience(sqlite_db, 2)
    with pytest.raises(InvalidInput, match=message), transaction(sqlite_db.sessions) as s:
        _values = dict(
            name="x",
            kind="broadcast",
            segment_ids=[setup["segment"]],
            arms=[
                {"key": "A", "percent": 50, "template_id": setup["a"]},
                {"key": "B", "percent": 50, "template_id": setup["b"]},
            ],
        )
        _values.update(fields)
        service.create(s, now=NOW, **_values)
    with transaction(sqlite_db.sessions) as s:
        assert service.list_experiments(s) == []
