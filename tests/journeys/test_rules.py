"""Pure rules: wait-until across zones and DST, deterministic splits, filters, re-entry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from patron.journeys import rules
from patron.journeys.definition import Where


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_wait_until_is_the_customer_wall_clock():
    now = utc(2026, 3, 2, 12, 0)  # Monday 12:00 UTC
    # 09:00 in New York (EST, UTC-5) is 14:00 UTC: still today.
    assert rules.next_local_time(
        now, zone_name="America/New_York", at="09:00", weekdays=None
    ) == utc(2026, 3, 2, 14, 0)
    # 09:00 in Tokyo (UTC+9) passed at 00:00 UTC: tomorrow.
    assert rules.next_local_time(now, zone_name="Asia/Tokyo", at="09:00", weekdays=None) == utc(
        2026, 3, 3, 0, 0
    )
    # Unknown zone: UTC.
    assert rules.next_local_time(now, zone_name="Mars/Base", at="12:00", weekdays=None) == now


def test_wait_until_across_dst_keeps_the_local_time():
    # New York springs forward on Sunday 2026-03-08: 09:00 is 14:00 UTC before, 13:00 after.
    before = rules.next_local_time(
        utc(2026, 3, 7, 15, 0), zone_name="America/New_York", at="09:00", weekdays=None
    )
    assert before == utc(2026, 3, 8, 13, 0)
    # Berlin falls back on 2026-10-25: 09:00 is 07:00 UTC before, 08:00 after.
    after = rules.next_local_time(
        utc(2026, 10, 24, 8, 0), zone_name="Europe/Berlin", at="09:00", weekdays=None
    )
    assert after == utc(2026, 10, 25, 8, 0)
    # 02:30 does not exist on the spring-forward night: it becomes 03:30 local (07:30 UTC).
    gap = rules.next_local_time(
        utc(2026, 3, 8, 5, 0), zone_name="America/New_York", at="02:30", weekdays=None
    )
    assert gap == utc(2026, 3, 8, 7, 30)


def test_wait_until_weekdays():
    friday = utc(2026, 3, 6, 18, 0)  # Friday, after 09:00 in London
    monday = rules.next_local_time(friday, zone_name="Europe/London", at="09:00", weekdays=[0])
    assert monday == utc(2026, 3, 9, 9, 0)
    same = rules.next_local_time(
        utc(2026, 3, 9, 9, 0), zone_name="Europe/London", at="09:00", weekdays=[0]
    )
    assert same == utc(2026, 3, 9, 9, 0)


def test_split_is_deterministic_and_near_its_percentages():
    picks = [rules.split_branch([20, 80], rules.bucket(7, "s", c)) for c in range(5000)]
    assert picks == [rules.split_branch([20, 80], rules.bucket(7, "s", c)) for c in range(5000)]
    share = Counter(picks)[0] / 5000
    assert 0.17 < share < 0.23
    assert rules.bucket(7, "s", 1) != rules.bucket(8, "s", 1) or rules.bucket(7, "t", 1) != (
        rules.bucket(7, "s", 1)
    )


def test_property_filters():
    where = (Where("plan", "eq", "gold"), Where("total", "gte", 10))
    assert rules.where_matches(where, {"plan": "gold", "total": 12})
    assert not rules.where_matches(where, {"plan": "gold", "total": "12"})
    assert not rules.where_matches(where, None)
    assert rules.where_matches((Where("tags", "contains", "a"),), {"tags": ["a", "b"]})


def test_reentry_policies():
    now = utc(2026, 3, 2)
    week = now - timedelta(days=7)
    allowed = rules.reentry_allowed
    assert allowed("never", 0, last_entered_at=None, live=False, now=now)
    assert not allowed("never", 0, last_entered_at=week, live=False, now=now)
    assert allowed("after_days", 7, last_entered_at=week, live=False, now=now)
    assert not allowed("after_days", 8, last_entered_at=week, live=False, now=now)
    assert allowed("always", 0, last_entered_at=now, live=False, now=now)
    assert not allowed("always", 0, last_entered_at=week, live=True, now=now)
