"""Memberships under concurrent writers: every real entry and exit recorded exactly once.

Four writers each send sixteen late events (old timestamps: they do not move the customer's
last event time, so nothing else serialises them) for one customer, each in its own
transaction through the tracking write path. The segment holds for an odd number of those
events up to 63 (32 event conditions: SQLite joins at most 64 tables), so it flips on every
event: 32 entries and 32 exits, while all writers are still running.
"""

from __future__ import annotations

import itertools
import threading

from sqlalchemy import func, select

from patron.db import transaction, utcnow
from patron.segments import service
from patron.segments.tables import SegmentMembership
from patron.tracking import rules as tracking_rules
from patron.tracking import service as tracking
from tests import factories

WRITERS, EACH = 4, 16
FLIPS = WRITERS * EACH // 2
ODD_PINGS = {
    "type": "or",
    "children": [
        {"type": "event", "name": "ping", "op": "exactly", "count": k}
        for k in range(1, 2 * FLIPS, 2)
    ],
}


def _send(db, message_id: str, timestamp: str, name: str = "ping") -> None:
    """One track message from customer c1, stored in its own transaction."""
    raw = {
        "type": "track",
        "event": name,
        "userId": "c1",
        "messageId": message_id,
        "timestamp": timestamp,
    }
    now = utcnow()
    messages = tracking_rules.batch(
        {"batch": [raw]}, body_size=100, received_at=now, new_id=lambda: "unused"
    )
    tracking.ingest(factory=db.sessions, messages=messages, now=now)


def _run(threads: list[threading.Thread]) -> None:
    """Start every thread, then wait for all."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _writer(db, writer: int, errors: list) -> threading.Thread:
    """A thread sending EACH late pings."""

    def run() -> None:
        try:
            for n in range(EACH):
                _send(db, f"w{writer}-{n}", "2020-01-01T00:00:00Z")
        except Exception as exc:  # collected for the assertion in the test
            errors.append(exc)

    return threading.Thread(target=run)


def _setup(db) -> int:
    """Customer c1 with a recent event (so pings are late) and the odd-pings segment."""
    with transaction(db.sessions) as s:
        factories.customer(s, "c1")
    _send(db, "recent", utcnow().isoformat(), name="seen")
    with transaction(db.sessions) as s:
        seg = service.create_segment(session=s, name="Odd", rules_json=ODD_PINGS, now=utcnow())
        return seg.id


def _live(session) -> set[int]:
    """The customers matching the odd-pings rules right now."""
    return {
        row["id"]
        for row in service.preview(session=session, rules_json=ODD_PINGS, now=utcnow())["customers"]
    }


def _assert_consistent(db, segment_id: int) -> list[str]:
    """member_count equals the rows, changes alternate per customer and end in the state."""
    with transaction(db.sessions) as s:
        rows = s.scalar(
            select(func.count())
            .select_from(SegmentMembership)
            .where(SegmentMembership.segment_id == segment_id)
        )
        members = set(
            s.scalars(
                select(SegmentMembership.customer_id).where(
                    SegmentMembership.segment_id == segment_id
                )
            )
        )
        assert service.get_segment(session=s, segment_id=segment_id).member_count == rows
        history: dict[int, list[str]] = {}
        for change in service.changes(session=s, segment_id=segment_id, limit=10000):
            history.setdefault(change["customer_id"], []).append(change["change"])
        for cid, seen in history.items():
            assert seen[0] == "entered"
            assert all(a != b for a, b in itertools.pairwise(seen)), seen
            assert (seen[-1] == "entered") == (cid in members)
        live = set(
            s.scalars(service._compile(s, service.rules.parse_tree(ODD_PINGS), utcnow()).members())
        )
        assert members == live
        return [change for seen in history.values() for change in seen]


def test_concurrent_late_events_record_each_entry_and_exit_once(db):
    sid = _setup(db)
    errors: list = []
    _run([_writer(db, w, errors) for w in range(WRITERS)])
    assert errors == []
    changes = _assert_consistent(db, sid)
    assert (changes.count("entered"), changes.count("exited")) == (FLIPS, FLIPS)


def test_full_refreshes_racing_inline_updates_stay_consistent(db):
    sid = _setup(db)
    errors: list = []
    done = threading.Event()

    def refresher() -> None:
        try:
            while not done.is_set():
                with transaction(db.sessions) as s:
                    service.refresh_segment(session=s, segment_id=sid, now=utcnow())
        except Exception as exc:  # collected for the assertion in the test
            errors.append(exc)

    writers = [_writer(db, w, errors) for w in range(WRITERS)]
    background = threading.Thread(target=refresher)
    background.start()
    _run(writers)
    done.set()
    background.join()
    assert errors == []
    changes = _assert_consistent(db, sid)
    # The segment flipped on each ping, each flip recorded once.
    assert (changes.count("entered"), changes.count("exited")) == (FLIPS, FLIPS)
