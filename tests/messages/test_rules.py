"""Frequency caps and quiet hours across time zones and DST changes (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.errors import InvalidInput
from patron.messages import rules

ZONES = (
    "America/New_York",
    "Europe/Warsaw",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kathmandu",  # +05:45, no DST
    "UTC",
)
# Around the DST changes of 2026 in these zones (March, April, October, November).
TRANSITIONS = (
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York falls back
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # Warsaw springs forward
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # Warsaw falls back
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe falls back (02:00 → 01:30)
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe springs forward (02:00 → 02:30)
)
walls = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
near_transition = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes),
    st.sampled_from(TRANSITIONS),
    st.integers(-36 * 60, 36 * 60),
)
anytime = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)
instants = st.one_of(near_transition, anytime)


def _quiet_at(instant: datetime, zone: str, quiet: rules.QuietHours) -> bool:
    """Whether an instant is inside the quiet hours of a zone."""
    return quiet.contains(instant.astimezone(rules.zone(zone)).time().replace(tzinfo=None))


@settings(max_examples=400, deadline=None)
@given(now=instants, zone=st.sampled_from(ZONES), start=walls, end=walls)
def test_after_quiet_hours_is_outside_the_window_not_before_now_and_minimal(now, zone, start, end):
    quiet = rules.QuietHours(start, end)
    result = rules.after_quiet_hours(now, zone, quiet)
    assert result >= now
    assert not _quiet_at(result, zone, quiet)
    if result > now:
        # Minimal: every earlier instant from now on is still quiet (checked each minute
        # before the result and at the instant just before it).
        assert _quiet_at(now, zone, quiet)
        assert _quiet_at(result - timedelta(microseconds=1), zone, quiet)
        step = max(timedelta(minutes=1), (result - now) / 50)
        probe = now
        while probe < result:
            assert _quiet_at(probe, zone, quiet), probe
            probe += step
    else:
        assert result == now


def test_quiet_hours_end_inside_a_spring_forward_gap_is_the_first_instant_after_it():
    # New York, 8 March 2026: 02:00-03:00 does not exist; quiet until 02:30 ends at 03:00 EDT.
    quiet = rules.QuietHours(time(21, 0), time(2, 30))
    now = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST
    assert rules.after_quiet_hours(now, "America/New_York", quiet) == datetime(
        2026, 3, 8, 7, 0, tzinfo=UTC
    )


def test_quiet_hours_end_inside_a_fall_back_overlap_is_its_first_occurrence():
    # Warsaw, 25 October 2026: 02:00-03:00 happens twice; quiet until 02:30 ends at the first.
    quiet = rules.QuietHours(time(21, 0), time(2, 30))
    now = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 00:00 CEST
    assert rules.after_quiet_hours(now, "Europe/Warsaw", quiet) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_parse_quiet_hours():
    assert rules.parse_quiet_hours("21:00-08:00") == rules.QuietHours(time(21), time(8))
    assert rules.parse_quiet_hours("") is None
    with pytest.raises(InvalidInput):
        rules.parse_quiet_hours("late")


def _replay(requests: list[datetime], cap: rules.FrequencyCap) -> tuple[list, list]:
    """Decide each request in time order; deferred ones come back at their release time."""
    pending = sorted(requests)
    sent, skipped = [], []
    guard = 0
    while pending:
        guard += 1
        assert guard < 10_000, "deferred sends never settle"
        at = pending.pop(0)
        decision = rules.check_cap(sent, at, cap)
        if decision.action == "send":
            sent.append(at)
        elif decision.action == "skip":
            skipped.append(at)
        else:
            assert decision.until > at
            pending.append(decision.until)
            pending.sort()
    return sent, skipped


offsets = st.lists(st.integers(0, 30 * 24 * 60), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(
    start=instants,
    minutes=offsets,
    limit=st.integers(1, 4),
    days=st.integers(1, 7),
    policy=st.sampled_from(rules.CAP_POLICIES),
)
def test_replayed_sends_never_exceed_the_cap_in_any_window(start, minutes, limit, days, policy):
    cap = rules.FrequencyCap(limit=limit, days=days, policy=policy)
    requests = [start + timedelta(minutes=m) for m in minutes]
    sent, skipped = _replay(requests, cap)
    window = timedelta(days=days)
    for t in sent:
        assert sum(1 for s in sent if t - window < s <= t) <= limit
    assert len(sent) + len(skipped) == len(requests)
    if policy == "defer":
        assert not skipped  # deferring loses nothing


@settings(max_examples=300, deadline=None)
@given(
    start=instants,
    minutes=st.lists(st.integers(0, 10 * 24 * 60), min_size=1, max_size=10),
    limit=st.integers(1, 4),
    days=st.integers(1, 7),
)
def test_a_deferral_releases_at_the_first_instant_the_window_allows(start, minutes, limit, days):
    cap = rules.FrequencyCap(limit=limit, days=days)
    history = sorted(start + timedelta(minutes=m) for m in minutes)
    now = history[-1]
    decision = rules.check_cap(history, now, cap)
    if decision.action == "send":
        return
    assert decision.until > now
    assert rules.check_cap(history, decision.until, cap).action == "send"
    assert rules.check_cap(history, decision.until - timedelta(microseconds=1), cap).action == (
        "defer"
    )


def test_a_priority_message_is_exempt_from_the_cap():
    now = datetime(2026, 1, 10, tzinfo=UTC)
    cap = rules.FrequencyCap(limit=1, days=7, policy="skip")
    assert rules.check_cap([now - timedelta(hours=1)], now, cap).action == "skip"
    assert rules.check_cap([now - timedelta(hours=1)], now, cap, priority=1).action == "send"


@settings(max_examples=200, deadline=None)
@given(day_offset=st.integers(-400, 400), wall=walls, zone=st.sampled_from(ZONES))
def test_local_send_time_reads_the_wall_time_or_just_after_a_gap(day_offset, wall, zone):
    day = datetime(2026, 6, 1).date() + timedelta(days=day_offset)
    at = rules.local_send_time(day, wall, zone)
    local = at.astimezone(rules.zone(zone))
    assert local.date() == day
    assert local.time().replace(tzinfo=None) >= wall
    assert local.time().replace(tzinfo=None) == wall or local.utcoffset() != (
        (at - timedelta(hours=1)).astimezone(rules.zone(zone)).utcoffset()
    )


def test_quiet_hours_in_the_repeated_hour_end_at_the_second_reading_of_the_end():
    # New York, 1 November 2026: 01:00-02:00 happens twice. At 01:00 EST (the second pass)
    # quiet hours 00:00-01:15 end at 01:15 EST, not at 01:15 EDT an hour earlier.
    quiet = rules.QuietHours(time(0, 0), time(1, 15))
    now = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    assert rules.after_quiet_hours(now, "America/New_York", quiet) == datetime(
        2026, 11, 1, 6, 15, tzinfo=UTC
    )
