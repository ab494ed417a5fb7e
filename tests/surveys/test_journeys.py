"""Surveys in journeys: the survey_request step asks, an answer triggers the recovery playbook."""

from __future__ import annotations

from sqlalchemy import select

from patron.db import transaction
from patron.journeys import service as journeys
from patron.surveys import links, playbooks, service
from patron.surveys.tables import SurveyRequest
from tests.journeys.conftest import T0, paths, step
from tests.surveys.conftest import person, survey


def test_a_journey_step_asks_and_a_detractor_answer_starts_the_recovery_playbook(sqlite_db):
    db = sqlite_db
    survey_id = survey(db)
    with transaction(db.sessions) as s:
        a, b = person(s, 1).id, person(s, 2).id
        recovery, new = playbooks.install(session=s, name="detractor_recovery", now=T0)
        again, new_again = playbooks.install(session=s, name="detractor_recovery", now=T0)
        assert new and not new_again and again.id == recovery.id
        journeys.resume(session=s, journey_id=recovery.id, now=T0)
        asking = journeys.create_journey(
            session=s,
            name="Ask NPS",
            now=T0,
            definition={
                "trigger": {"type": "api"},
                "steps": [{"id": "ask", "type": "survey_request", "survey_id": survey_id}],
            },
        )
        journeys.resume(session=s, journey_id=asking.id, now=T0)
        for customer_id in (a, b):
            journeys.enrol(session=s, journey_id=asking.id, customer_id=customer_id, now=T0)
        recovery_id = recovery.id
    step(db, T0)
    with transaction(db.sessions) as s:
        requests = {r.customer_id: r.id for r in s.scalars(select(SurveyRequest))}
        assert set(requests) == {a, b}
        for customer_id, score in ((a, 2), (b, 10)):
            slot = links.Slot(survey_id, customer_id, requests[customer_id], 0)
            service.answer(session=s, slot=slot, answers={"q1": score}, channel="email", now=T0)
    step(db, T0)
    [path] = paths(db, recovery_id)  # only the detractor, alerted at once, then a day's wait
    assert path["customer_id"] == a and path["state"] == "waiting"
    assert [run[0] for run in path["path"]][:1] == ["alert"]
