"""The refresh beside other work: reads and writes go on while it writes; one refresh at a time."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from patron.analytics.lease import RefreshRunning, refresh_lease
from patron.analytics.refresh import refresh
from patron.analytics.tables import CustomerScore, ScoreRun
from patron.db import read_transaction, transaction
from tests import factories
from tests.analytics.shop import Sale, load_shop
from tests.factories import at

# Far below the 30 s busy timeout: a read or write that waited for the whole refresh would not be.
# Generous for a shared 2-core machine; a read waiting for the whole refresh (the old single
# transaction) is excluded by `overlapped`, this only bounds a wait for one chunk.
QUICK = 5.0
# With one customer per write transaction, enough for the refresh to write for a second or more
# (a PostgreSQL chunk costs ~20 ms: its temporary table is created and dropped each time).
CUSTOMERS = {"sqlite": 1500, "postgresql": 200}


def _shop(db, customers: int) -> None:
    """Customers with two purchases each, a month apart."""
    sales = [Sale(f"c{i:04d}", day) for i in range(customers) for day in (0, 30 + i % 20)]
    with transaction(db.sessions) as session:
        load_shop(session, sales)


def _timed(action) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def test_reads_and_writes_go_on_during_a_refresh(db):
    customers = CUSTOMERS[db.backend]
    _shop(db, customers)
    writing, errors, seen = threading.Event(), [], []

    def run() -> None:
        try:
            # One customer per transaction: hundreds of short write transactions.
            refresh(
                sessions=db.sessions,
                now=at(90),
                chunk_size=1,
                progress=lambda step: step == "write" and writing.set(),
            )
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
            writing.set()

    worker = threading.Thread(target=run)
    worker.start()
    assert writing.wait(60)

    def read() -> None:
        with read_transaction(db.sessions) as session:
            seen.append(session.scalar(select(func.count()).select_from(CustomerScore)))

    def write() -> None:
        with transaction(db.sessions) as session:
            factories.customer(session, "during-refresh")

    timings = [_timed(read), _timed(write), _timed(read)]
    overlapped = worker.is_alive()
    worker.join(120)
    assert not errors, errors
    assert overlapped, "the refresh finished before the reads and writes: make it slower"
    assert max(timings) < QUICK, timings
    with read_transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(CustomerScore)) == customers
        assert session.scalar(select(func.count()).select_from(ScoreRun)) == 1
    # The readers saw the chunks land one by one, not all at once at the end.
    assert seen[0] <= seen[1] < customers, seen


def test_a_second_refresh_is_refused_while_one_runs(db):
    _shop(db, 5)
    with refresh_lease(db.sessions), pytest.raises(RefreshRunning, match="already running"):
        refresh(sessions=db.sessions, now=at(90))
    with read_transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ScoreRun)) == 0
    assert refresh(sessions=db.sessions, now=at(90)).customers == 5


def test_two_refreshes_at_once_write_once(db):
    _shop(db, 100)
    outcomes: list[str] = []

    def run() -> None:
        try:
            refresh(sessions=db.sessions, now=at(90), chunk_size=1)
            outcomes.append("ran")
        except RefreshRunning:
            outcomes.append("refused")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(outcomes) == ["ran", "refused"]
    with read_transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ScoreRun)) == 1


def test_chunked_writes_store_the_same_scores_as_one_chunk(db):
    _shop(db, 40)
    refresh(sessions=db.sessions, now=at(90))
    with read_transaction(db.sessions) as session:
        whole = {
            s.customer_id: (s.lifecycle_stage, s.p_alive)
            for s in session.scalars(select(CustomerScore))
        }
    report = refresh(sessions=db.sessions, now=at(90), chunk_size=7)
    with read_transaction(db.sessions) as session:
        chunked = {
            s.customer_id: (s.lifecycle_stage, s.p_alive)
            for s in session.scalars(select(CustomerScore))
        }
    assert chunked == whole and len(whole) == 40 and report.stage_changes == 0
