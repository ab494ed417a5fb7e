"""A journey experiment: the arms are a split step's branches, one branch the holdout."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from patron.db import transaction
from patron.errors import InvalidInput
from patron.experiments import service
from patron.experiments.tables import Exposure
from patron.journeys import engine
from patron.journeys import service as journeys
from patron.messages.tables import OutboxMessage
from tests.journeys.conftest import T0, at, journey, person, template


def _journey(db, n: int) -> tuple[int, list[int]]:
    with transaction(db.sessions) as s:
        people = [person(s, f"j{i}").id for i in range(n)]
        a, b = template(s, "ja").id, template(s, "jb").id
    definition = {
        "trigger": {"type": "api"},
        "steps": [
            {
                "id": "s",
                "type": "split",
                "branches": [
                    {"percent": 40, "next": "a"},
                    {"percent": 40, "next": "b"},
                    {"percent": 20, "next": "x"},
                ],
            },
            {"id": "a", "type": "send", "template_id": a, "next": "x"},
            {"id": "b", "type": "send", "template_id": b, "next": "x"},
            {"id": "x", "type": "exit"},
        ],
    }
    jid = journey(db, definition)
    with transaction(db.sessions) as s:
        for cid in people:
            journeys.enrol(session=s, journey_id=jid, customer_id=cid, now=T0)
    while engine.run_batch(db.sessions, now=at(seconds=1), worker="w", limit=100)[0]:
        pass
    return jid, people


def test_split_branches_are_the_arms_and_the_holdout_branch_gets_nothing(sqlite_db):
    db = sqlite_db
    jid, people = _journey(db, 60)
    arms = [{"key": "A", "branch": 0}, {"key": "B", "branch": 1}]
    with transaction(db.sessions) as s:
        with pytest.raises(InvalidInput, match="no split step"):
            service.create(
                s, name="j", kind="journey", arms=arms, journey_id=jid, step_id="a", now=T0
            )
        row = service.create(
            s,
            name="Welcome split",
            kind="journey",
            arms=arms,
            journey_id=jid,
            step_id="s",
            holdout_branch=2,
            now=T0,
        )
        assert [a["percent"] for a in row.arms] == [40, 40] and row.holdout_percent == 20
        service.start(s, experiment_id=row.id, now=T0)
        report = service.report(s, experiment_id=row.id, now=at(days=2))
        exposed = dict(s.execute(select(Exposure.customer_id, Exposure.arm)).all())
        sent = set(s.scalars(select(OutboxMessage.customer_id)))
        decided = service.decide(s, experiment_id=row.id, now=at(days=2))
        assert decided.state == "decided" and decided.winner in ("A", "B")
        assert "sent to the remaining" not in decided.decision
    assert set(exposed) == set(people)
    counts = Counter(exposed.values())
    assert [a["recipients"] for a in report["arms"]] == [
        counts["A"],
        counts["B"],
        counts["holdout"],
    ]
    assert counts["holdout"] > 0 and not report["srm"]["mismatch"]
    assert sent == {c for c, arm in exposed.items() if arm != "holdout"}
    assert report["incrementality"]["holdout"] == counts["holdout"]
