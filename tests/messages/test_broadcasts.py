"""Broadcasts: audience and live count, send once, pause/resume/cancel, local time, pacing."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from patron.db import transaction
from patron.errors import InvalidInput
from patron.messages import broadcast_report, broadcasts, outbox, rules
from patron.messages.config import MessageConfig
from patron.messages.tables import OutboxMessage
from patron.segments.tables import Segment, SegmentMembership
from tests.messages.conftest import NOW, SECRET, customer, run_lane, states, template

CAPTURE = MessageConfig(secret_key=SECRET, lease_seconds=60)
RULES = {"type": "profile", "field": "email", "op": "contains", "value": "@"}


def segment(session, name: str, members) -> int:
    """A segment holding exactly these customers (its rules are never evaluated here)."""
    row = Segment(name=name, rules=RULES, created_at=NOW, updated_at=NOW)
    session.add(row)
    session.flush()
    for c in members:
        session.add(SegmentMembership(segment_id=row.id, customer_id=c.id, entered_at=NOW))
    session.flush()
    return row.id


def setup(db, n: int = 5, profiles: dict | None = None) -> dict:
    """n customers with consent in segment "all", c0 also in "vip"; a template; a draft."""
    with transaction(db.sessions) as s:
        people = [customer(s, i, **(profiles or {}).get(i, {})) for i in range(n)]
        everyone = segment(s, "all", people)
        vip = segment(s, "vip", people[:1])
        t = template(s)
        b = broadcasts.create(s, name="News", template_id=t.id, segment_ids=[everyone], now=NOW)
        return dict(
            ids=[p.id for p in people], all=everyone, vip=vip, template=t.id, broadcast=b.id
        )


def rows_of(db, broadcast_id: int) -> list[OutboxMessage]:
    with transaction(db.sessions) as s:
        return list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.source_id == broadcast_id)
                .order_by(OutboxMessage.customer_id)
            )
        )


def test_live_count_after_exclusions_consent_suppression_and_cap(db):
    with transaction(db.sessions) as s:
        people = [customer(s, i) for i in range(6)]
        people.append(customer(s, 6, consent="denied"))
        everyone = segment(s, "all", people)
        left_out = segment(s, "left out", people[:1])
        outbox.suppress(s, address="C1@example.com", reason="manual", detail=None, now=NOW)
        t = template(s)
        s.add(
            OutboxMessage(
                source="journey", source_id=1, customer_id=people[2].id, channel="email",
                template_id=t.id, kind="marketing", state="sent", send_after=NOW,
                queued_at=NOW, sent_at=NOW - timedelta(days=1),
            )
        )  # fmt: skip
        b = broadcasts.create(
            s, name="N", template_id=t.id, segment_ids=[everyone],
            exclude_segment_ids=[left_out], now=NOW,
        )  # fmt: skip
        capped = MessageConfig(secret_key=SECRET, cap=rules.FrequencyCap(limit=1, days=7))
        found = broadcasts.count(s, broadcast=b, now=NOW, config=capped)
    assert found == {"members": 6, "consented": 5, "not_suppressed": 4, "within_cap": 3}


def test_bad_input_is_refused_with_a_message(db):
    ctx = setup(db, 1)
    with transaction(db.sessions) as s:
        with pytest.raises(InvalidInput, match="no segment with id 999"):
            broadcasts.create(s, name="x", template_id=ctx["template"], segment_ids=[999], now=NOW)
        with pytest.raises(InvalidInput, match="at least one segment"):
            broadcasts.create(s, name="x", template_id=ctx["template"], segment_ids=[], now=NOW)
        with pytest.raises(InvalidInput, match="future"):
            broadcasts.schedule(s, broadcast_id=ctx["broadcast"], now=NOW, send_at=NOW)


def test_pressing_send_twice_sends_once_and_the_report_counts_it(db):
    ctx = setup(db, 4)
    with transaction(db.sessions) as s:
        from patron.customers import service as customers
        from patron.customers.read import Customer

        c3 = s.get(Customer, ctx["ids"][3])
        customers.set_consent(
            session=s, customer=c3, channel="email", status="unsubscribed", source="t", now=NOW
        )
        assert broadcasts.start(s, broadcast_id=ctx["broadcast"], now=NOW) is True
    with transaction(db.sessions) as s:
        assert broadcasts.start(s, broadcast_id=ctx["broadcast"], now=NOW) is False
        assert broadcasts.get(s, broadcast_id=ctx["broadcast"]).audience_size == 4
    assert len(rows_of(db, ctx["broadcast"])) == 4
    assert run_lane(db, CAPTURE, "bulk") == 4
    with transaction(db.sessions) as s:
        assert broadcasts.finish_done(s, now=NOW) == 1
        b = broadcasts.get(s, broadcast_id=ctx["broadcast"])
        report = broadcast_report.report(s, broadcast=b)
    assert report["state"] == "sent"
    assert (report["audience"], report["sent"], report["queued"]) == (4, 3, 0)
    assert report["skipped_by_reason"] == {"consent": 1}


@pytest.mark.parametrize("backend", ["postgresql"])
def test_concurrent_presses_of_send_snapshot_once(pg_db, backend):
    ctx = setup(pg_db, 50)
    barrier, results = threading.Barrier(4), []

    def press():
        barrier.wait()
        with transaction(pg_db.sessions) as s:
            results.append(broadcasts.start(s, broadcast_id=ctx["broadcast"], now=NOW))

    threads = [threading.Thread(target=press) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert len(rows_of(pg_db, ctx["broadcast"])) == 50


def test_exclusions_and_overlapping_segments_queue_each_customer_once(db):
    ctx = setup(db, 3)
    with transaction(db.sessions) as s:
        b = broadcasts.create(
            s, name="Two", template_id=ctx["template"], segment_ids=[ctx["all"], ctx["vip"]],
            now=NOW,
        )  # fmt: skip
        broadcasts.start(s, broadcast_id=b.id, now=NOW)
        c = broadcasts.create(
            s, name="Not vip", template_id=ctx["template"], segment_ids=[ctx["all"]],
            exclude_segment_ids=[ctx["vip"]], now=NOW,
        )  # fmt: skip
        broadcasts.start(s, broadcast_id=c.id, now=NOW)
        bid, cid = b.id, c.id
    assert [r.customer_id for r in rows_of(db, bid)] == ctx["ids"]
    assert [r.customer_id for r in rows_of(db, cid)] == ctx["ids"][1:]


def test_paused_rows_are_not_claimed_until_resumed_and_cancel_skips_the_rest(db):
    ctx = setup(db, 3)
    with transaction(db.sessions) as s:
        broadcasts.start(s, broadcast_id=ctx["broadcast"], now=NOW)
        broadcasts.pause(s, broadcast_id=ctx["broadcast"])
    assert run_lane(db, CAPTURE, "bulk") == 0
    with transaction(db.sessions) as s:
        broadcasts.resume(s, broadcast_id=ctx["broadcast"], now=NOW)
    assert run_lane(db, CAPTURE, "bulk") == 3
    assert sorted(v for v in states(db).values()) == [("sent", None)] * 3
    with transaction(db.sessions) as s:
        assert broadcasts.finish_done(s, now=NOW) == 1
        with pytest.raises(InvalidInput, match="a sent broadcast cannot become paused"):
            broadcasts.pause(s, broadcast_id=ctx["broadcast"])


def test_cancel_skips_queued_rows_with_reason_cancelled(db):
    ctx = setup(db, 3)
    with transaction(db.sessions) as s:
        broadcasts.start(s, broadcast_id=ctx["broadcast"], now=NOW)
        broadcasts.pause(s, broadcast_id=ctx["broadcast"])
        broadcasts.cancel(s, broadcast_id=ctx["broadcast"], now=NOW)
    assert run_lane(db, CAPTURE, "bulk") == 0
    assert sorted(states(db).values()) == [("skipped", "cancelled")] * 3
    with transaction(db.sessions) as s, pytest.raises(InvalidInput):
        broadcasts.resume(s, broadcast_id=ctx["broadcast"], now=NOW)


def test_scheduled_broadcast_starts_when_due(db):
    ctx = setup(db, 2)
    at = NOW + timedelta(hours=2)
    with transaction(db.sessions) as s:
        broadcasts.schedule(s, broadcast_id=ctx["broadcast"], now=NOW, send_at=at)
        assert broadcasts.start_due(s, now=NOW) == []
    assert rows_of(db, ctx["broadcast"]) == []
    with transaction(db.sessions) as s:
        assert broadcasts.start_due(s, now=at) == [ctx["broadcast"]]
    assert {r.send_after for r in rows_of(db, ctx["broadcast"])} == {at}


def test_local_time_send_times_each_zone_with_one_insert_per_zone(db):
    zones = {0: "America/New_York", 1: "Asia/Kathmandu", 2: "Australia/Lord_Howe", 3: None}
    ctx = setup(db, 4, {i: {"time_zone": z} for i, z in zones.items() if z})
    day = date(2025, 1, 3)
    with transaction(db.sessions) as s:
        b = broadcasts.schedule(
            s, broadcast_id=ctx["broadcast"], now=NOW, local_time="09:30", day=day
        )
        assert b.send_at == datetime(2025, 1, 2, 19, 30, tzinfo=UTC)
        assert broadcasts.start_due(s, now=b.send_at) == [ctx["broadcast"]]
    found = {r.customer_id: r.send_after for r in rows_of(db, ctx["broadcast"])}
    for i, name in zones.items():
        assert found[ctx["ids"][i]] == rules.local_send_time(day, time(9, 30), name)
    assert found[ctx["ids"][1]] == datetime(2025, 1, 3, 3, 45, tzinfo=UTC)


def test_over_the_cap_a_row_is_deferred_with_its_reason_or_skipped(db):
    ctx = setup(db, 2)
    earlier = NOW - timedelta(days=2)
    with transaction(db.sessions) as s:
        s.add(
            OutboxMessage(
                source="journey", source_id=9, customer_id=ctx["ids"][0], channel="email",
                template_id=ctx["template"], kind="marketing", state="sent", send_after=earlier,
                queued_at=earlier, sent_at=earlier,
            )
        )  # fmt: skip
        broadcasts.start(s, broadcast_id=ctx["broadcast"], now=NOW)
    defer = MessageConfig(secret_key=SECRET, cap=rules.FrequencyCap(limit=1, days=7))
    assert run_lane(db, defer, "bulk") == 2
    rows = {r.customer_id: r for r in rows_of(db, ctx["broadcast"])}
    held = rows[ctx["ids"][0]]
    assert (held.state, held.reason) == ("queued", "frequency_cap")
    assert held.send_after == earlier + timedelta(days=7)
    assert rows[ctx["ids"][1]].state == "sent"
    # Replayed at its release time it goes; the cap then still holds.
    assert run_lane(db, defer, "bulk", now=held.send_after) == 1
    skip = MessageConfig(secret_key=SECRET, cap=rules.FrequencyCap(limit=1, days=7, policy="skip"))
    with transaction(db.sessions) as s:
        b = broadcasts.create(
            s, name="Again", template_id=ctx["template"], segment_ids=[ctx["all"]], now=NOW
        )
        broadcasts.start(s, broadcast_id=b.id, now=NOW + timedelta(days=6))
        bid = b.id
    run_lane(db, skip, "bulk", now=NOW + timedelta(days=6))
    assert {(r.state, r.reason) for r in rows_of(db, bid)} == {("skipped", "frequency_cap")}


def test_quiet_hours_defer_to_the_end_of_the_customers_window(db):
    ctx = setup(db, 2, {0: {"time_zone": "Europe/Warsaw"}, 1: {"time_zone": "Asia/Kathmandu"}})
    now = datetime(2025, 1, 1, 21, 30, tzinfo=UTC)  # 22:30 in Warsaw, 03:15 in Kathmandu
    with transaction(db.sessions) as s:
        broadcasts.start(s, broadcast_id=ctx["broadcast"], now=now)
    quiet = MessageConfig(secret_key=SECRET, quiet=rules.QuietHours(time(21), time(8)))
    assert run_lane(db, quiet, "bulk", now=now) == 2
    rows = {r.customer_id: r for r in rows_of(db, ctx["broadcast"])}
    assert rows[ctx["ids"][0]].send_after == datetime(2025, 1, 2, 7, 0, tzinfo=UTC)
    assert rows[ctx["ids"][1]].send_after == datetime(2025, 1, 2, 2, 15, tzinfo=UTC)
    assert {(r.state, r.reason) for r in rows.values()} == {("queued", "quiet_hours")}
