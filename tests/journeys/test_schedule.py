"""Scheduled triggers: birthdays, first-order anniversaries, date attributes, inactivity and
recurring audiences, each occurrence enrolling a customer once (re-runs, overlapping runs)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from patron.db import transaction
from patron.journeys import rules, schedule
from patron.journeys.definition import DefinitionError, parse
from patron.journeys.tables import Enrolment
from patron.segments import service as segments
from tests.journeys.conftest import T0, buy, enrolments, journey, person

WAIT = [{"id": "w", "type": "wait", "seconds": 3600}]


def _journey(db, trigger: dict, **options) -> int:
    return journey(db, {"trigger": trigger, "steps": WAIT, **options})


def _run(db, now: datetime) -> int:
    with transaction(db.sessions) as s:
        return schedule.run_scheduled(s, now=now)


def _who(db, journey_id: int) -> list[tuple[int, str | None]]:
    return sorted((e.customer_id, e.occurrence) for e in enrolments(db, journey_id))


# Pure rules -----------------------------------------------------------------------------------


def test_the_occurrence_opens_at_the_local_send_time_across_dst():
    ny = "America/New_York"  # DST starts on Sunday 8 March 2026: 09:00 is 13:00 UTC, not 14:00
    before = datetime(2026, 3, 8, 12, 59, tzinfo=UTC)
    after = datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert rules.open_occurrence(before, zone_name=ny, at="09:00") == date(2026, 3, 7)
    assert rules.open_occurrence(after, zone_name=ny, at="09:00") == date(2026, 3, 8)
    assert rules.open_occurrence(after, zone_name="Nowhere/Zone", at="09:00") == date(2026, 3, 8)


def test_a_weekly_occurrence_closes_a_day_after_its_moment():
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert rules.open_occurrence(monday, zone_name=None, at="09:00", weekdays=[0]) == monday.date()
    later = monday + timedelta(hours=27)
    assert rules.open_occurrence(later, zone_name=None, at="09:00", weekdays=[0]) is None


def test_a_leap_day_birthday_fires_on_the_28th_in_other_years():
    assert rules.anniversary_keys(date(2027, 2, 28), 0)[1] == ["02-28", "02-29"]
    assert rules.anniversary_keys(date(2028, 2, 28), 0)[1] == ["02-28"]
    assert rules.anniversary_keys(date(2026, 3, 1), 3) == (date(2026, 2, 26), ["02-26"])


def test_scheduled_triggers_are_checked():
    steps = {"steps": WAIT}
    with pytest.raises(DefinitionError, match="field"):
        parse({"trigger": {"type": "date", "field": "nameday"}, **steps})
    with pytest.raises(DefinitionError, match="at:"):
        parse({"trigger": {"type": "date", "field": "birthday", "at": "25:00"}, **steps})
    with pytest.raises(DefinitionError, match="days"):
        parse({"trigger": {"type": "inactivity", "of": "order"}, **steps})
    with pytest.raises(DefinitionError, match="segment_id"):
        parse({"trigger": {"type": "recurring", "weekdays": [0]}, **steps})
    d = parse({"trigger": {"type": "date", "field": "attribute", "attribute": "renews"}, **steps})
    assert (d.trigger.yearly, d.trigger.at, d.trigger.offset_days) == (False, "09:00", 0)


# Enrolment ------------------------------------------------------------------------------------


def test_birthdays_enrol_at_the_local_send_time_once(db):
    with transaction(db.sessions) as s:
        tokyo = person(s, "tokyo", birthday="1990-03-02", time_zone="Asia/Tokyo").id
        ny = person(s, "ny", birthday="1985-03-02", time_zone="America/New_York").id
        person(s, "other", birthday="1985-07-01", time_zone="America/New_York")
        utc = person(s, "utc", birthday="2000-03-02").id
    j = _journey(
        db, {"type": "date", "field": "birthday", "at": "09:00"}, reentry={"policy": "always"}
    )
    early = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 17:00 in Tokyo, 03:00 in New York
    assert _run(db, early) == 1
    assert _run(db, early) == 0
    assert _who(db, j) == [(tokyo, "2026-03-02")]
    assert _run(db, datetime(2026, 3, 2, 14, 0, tzinfo=UTC)) == 2  # 09:00 in New York
    assert _who(db, j) == sorted([(tokyo, "2026-03-02"), (ny, "2026-03-02"), (utc, "2026-03-02")])
    assert _run(db, datetime(2026, 3, 3, 8, 0, tzinfo=UTC)) == 0


def test_the_offset_and_reentry_policy_apply_to_each_year(db):
    with transaction(db.sessions) as s:
        c = person(s, "c", birthday="1990-03-05").id
    j = _journey(
        db,
        {"type": "date", "field": "birthday", "offset_days": -3, "at": "10:00"},
        reentry={"policy": "after_days", "days": 300},
    )
    assert _run(db, datetime(2026, 3, 2, 10, 0, tzinfo=UTC)) == 1
    assert _who(db, j) == [(c, "2026-03-02")]
    with transaction(db.sessions) as s:
        s.execute(Enrolment.__table__.update().values(state="completed"))
    assert _run(db, datetime(2027, 3, 2, 10, 0, tzinfo=UTC)) == 1
    assert [o for _c, o in _who(db, j)] == ["2026-03-02", "2027-03-02"]


def test_first_order_anniversaries_and_date_attributes(db):
    with transaction(db.sessions) as s:
        old = person(s, "old").id
        person(s, "fresh")
        renews = person(s, "renews", attributes={"renews_on": "2026-03-09"}).id
    buy(db, "old", datetime(2025, 3, 2, 3, 0, tzinfo=UTC))
    buy(db, "fresh", datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    anniversary = _journey(db, {"type": "date", "field": "first_order", "at": "09:00"})
    renewal = _journey(
        db,
        {"type": "date", "field": "attribute", "attribute": "renews_on", "offset_days": -7},
    )
    _run(db, T0)
    assert _who(db, anniversary) == [(old, "2026-03-02")]
    assert _who(db, renewal) == [(renews, "2026-03-02")]


def test_inactivity_enrols_once_per_quiet_spell(db):
    with transaction(db.sessions) as s:
        quiet = person(s, "quiet").id
        person(s, "busy")
    buy(db, "quiet", T0 - timedelta(days=40))
    buy(db, "busy", T0 - timedelta(days=5))
    j = _journey(
        db, {"type": "inactivity", "of": "order", "days": 30}, reentry={"policy": "always"}
    )
    assert _run(db, T0) == 1
    assert _run(db, T0 + timedelta(days=1)) == 0
    [(customer, key)] = _who(db, j)
    assert customer == quiet and key.startswith("since:")


def test_a_recurring_audience_enrols_the_segment_each_monday(db):
    with transaction(db.sessions) as s:
        vip = person(s, "vip", attributes={"plan": "vip"}).id
        person(s, "plain")
        seg = segments.create_segment(
            session=s,
            name="VIPs",
            rules_json={
                "type": "and",
                "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "vip"}],
            },
            now=T0,
        ).id
    j = _journey(
        db,
        {"type": "recurring", "segment_id": seg, "weekdays": [0], "at": "09:00"},
        reentry={"policy": "always"},
    )
    assert _run(db, T0) == 1 and _run(db, T0) == 0
    assert _run(db, T0 + timedelta(days=3)) == 0  # Thursday: no occurrence open
    with transaction(db.sessions) as s:
        s.execute(Enrolment.__table__.update().values(state="completed"))
    assert _run(db, T0 + timedelta(days=7)) == 1
    assert [o for _c, o in _who(db, j)] == ["2026-03-02", "2026-03-09"]
    assert {c for c, _o in _who(db, j)} == {vip}


def test_the_entry_filter_applies(db):
    with transaction(db.sessions) as s:
        person(s, "a", birthday="1990-03-02", attributes={"plan": "vip"})
        person(s, "b", birthday="1990-03-02")
    vip_only = {
        "type": "and",
        "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "vip"}],
    }
    j = _journey(db, {"type": "date", "field": "birthday"}, entry_filter=vip_only)
    assert _run(db, T0) == 1 and len(enrolments(db, j)) == 1


def test_concurrent_runs_enrol_each_customer_once(pg_db):
    with transaction(pg_db.sessions) as s:
        for n in range(30):
            person(s, f"p{n}", birthday="1990-03-02", time_zone=["Europe/Paris", None][n % 2])
    j = _journey(pg_db, {"type": "date", "field": "birthday"}, reentry={"policy": "always"})
    barrier, counts, errors = threading.Barrier(2), [], []

    def run():
        try:
            with transaction(pg_db.sessions) as s:
                barrier.wait()
                counts.append(schedule.run_scheduled(s, now=T0))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(counts) == 30
    with transaction(pg_db.sessions) as s:
        rows = s.execute(select(Enrolment.customer_id).where(Enrolment.journey_id == j)).all()
    assert len(rows) == len(set(rows)) == 30
