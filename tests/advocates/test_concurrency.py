"""PostgreSQL: the same community activity delivered many times at once counts once."""

from __future__ import annotations

import json
import threading

from sqlalchemy import func, select

from patron.advocates import inbound, rules
from patron.db import transaction, utcnow
from patron.events.tables import LoggedEvent
from tests import factories

SECRET = "discourse-s3cret"
WRITERS = 8


def test_concurrent_retries_of_one_post_record_it_once(pg_db, monkeypatch):
    db = pg_db
    monkeypatch.setenv(inbound.DISCOURSE_SECRET, SECRET)
    with transaction(db.sessions) as s:
        factories.customer(s, "ada", email="ada@example.com")
    body = json.dumps({"post": {"id": 7, "username": "ada", "email": "ada@example.com"}}).encode()
    headers = {
        "X-Discourse-Event": "post_created",
        "X-Discourse-Event-Signature": rules.discourse_signature(SECRET, body),
    }
    barrier, results, errors = threading.Barrier(WRITERS), [], []

    def deliver():
        try:
            with db.sessions() as session, session.begin():
                barrier.wait(timeout=30)
                results.append(
                    inbound.receive_discourse(
                        session=session, headers=headers, body=body, now=utcnow()
                    )["recorded"]
                )
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and sorted(results) == [0] * (WRITERS - 1) + [1]
    with transaction(db.sessions) as s:
        events = s.scalar(select(func.count()).where(LoggedEvent.type == "community.activity"))
    assert events == 1
