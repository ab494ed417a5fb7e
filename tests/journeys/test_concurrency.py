"""Workers racing on PostgreSQL run each step once; a contributed step type runs in the engine."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from patron.db import transaction
from patron.journeys import engine, service, steps
from patron.journeys.definition import DefinitionError
from patron.journeys.tables import Enrolment, StepRun
from patron.messages.tables import OutboxMessage
from tests.journeys.conftest import T0, at, enrolments, journey, paths, person, template


def test_racing_workers_run_each_step_exactly_once(pg_db):
    db = pg_db
    with transaction(db.sessions) as s:
        people = [person(s, f"c{i}").id for i in range(30)]
        tid = template(s).id
    definition = {
        "trigger": {"type": "api"},
        "steps": [
            {"id": "a", "type": "send", "template_id": tid, "next": "b"},
            {"id": "b", "type": "send", "template_id": tid, "next": "w"},
            {"id": "w", "type": "wait", "seconds": 60},
        ],
    }
    jid = journey(db, definition)
    with transaction(db.sessions) as s:
        for cid in people:
            service.enrol(session=s, journey_id=jid, customer_id=cid, now=T0)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            while engine.run_batch(db.sessions, now=at(seconds=1), worker=f"w{n}", limit=4)[0]:
                pass
        except BaseException as exc:
            errors.append(exc)

    # Batches of 4 so the workers interleave and contend for the same rows.
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 60
        assert s.scalar(select(func.count()).select_from(StepRun)) == 90
        states = s.execute(select(Enrolment.state, Enrolment.attempts).distinct()).all()
    assert states == [("waiting", 0)]


def _points_fields(raw: dict, step_id: str) -> dict:
    points = raw.get("points")
    if not isinstance(points, int) or points <= 0:
        raise DefinitionError(step_id, "points: a positive integer is required")
    return {"points": points}


def test_a_contributed_step_type_is_validated_and_performed(db, monkeypatch):
    performed = []

    def perform(*, session, customer_id, fields, key, now):
        performed.append((customer_id, fields["points"], key))
        return {"given": fields["points"]}

    kind = steps.StepType("give_points", _points_fields, perform)
    monkeypatch.setattr(steps, "contributed", lambda: {"give_points": kind})
    with transaction(db.sessions) as s:
        cid = person(s, "a").id
    bad = {"trigger": {"type": "api"}, "steps": [{"id": "g", "type": "give_points"}]}
    try:
        journey(db, bad)
        raise AssertionError("refused expected")
    except DefinitionError as exc:
        assert exc.step == "g"
    good = {"trigger": {"type": "api"}, "steps": [{"id": "g", "type": "give_points", "points": 50}]}
    jid = journey(db, good)
    with transaction(db.sessions) as s:
        service.enrol(session=s, journey_id=jid, customer_id=cid, now=T0)
    for _ in range(2):
        engine.run_due(db.sessions, now=T0)
    (e,) = enrolments(db, jid)
    assert performed == [(cid, 50, f"{e.version_id}:g:{e.id}:0")]
    assert paths(db, jid)[0]["path"] == [("g", 0, "done")]
