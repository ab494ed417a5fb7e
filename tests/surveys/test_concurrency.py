"""The recontact limit under concurrent senders on PostgreSQL, and concurrent first answers."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from patron.db import transaction
from patron.surveys import links, service
from patron.surveys.tables import SurveyRequest, SurveyResponse
from tests.surveys.conftest import NOW, person, survey

WRITERS = 6


def _race(work) -> list:
    barrier, out = threading.Barrier(WRITERS), []

    def run(i: int):
        barrier.wait()
        out.append(work(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_concurrent_asks_of_different_surveys_send_one_and_concurrent_answers_make_one(pg_db):
    db = pg_db
    ids = [survey(db, f"S{i}") for i in range(WRITERS)]
    with transaction(db.sessions) as s:
        customer_id = person(s, 1).id

    def ask(i: int):
        with transaction(db.sessions) as s:
            return service.ask(
                session=s, survey_id=ids[i], customer_id=customer_id, key=f"k{i}", now=NOW
            )

    results = _race(ask)
    assert sum("request_id" in r for r in results) == 1
    slot = links.Slot(ids[0], customer_id, None, 1)

    def answer(i: int):
        with transaction(db.sessions) as s:
            return service.answer(
                session=s, slot=slot, answers={"q1": i}, channel="link", now=NOW
            ).id

    assert len(set(_race(answer))) == 1
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SurveyRequest)) == 1
        row = s.scalar(select(SurveyResponse))
        assert row.revisions == WRITERS
