"""Pure rules of journeys: local wait-until times, split buckets, property filters, re-entry.

No I/O and no clock: `now` is passed in.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WHERE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "exists")
BUCKETS = 10_000
LIVE_STATES = ("active", "waiting")
DEFAULT_ZONE = "UTC"


def parse_clock(text: str) -> time:
    """HH:MM as a time of day; ValueError when it is not one."""
    hours, _, minutes = text.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(text)
    return time(int(hours), int(minutes))


def zone(name: str | None) -> ZoneInfo:
    """The customer's zone; UTC when none or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def next_local_time(
    now: datetime, *, zone_name: str | None, at: str, weekdays: Sequence[int] | None
) -> datetime:
    """The first instant at or after now that is `at` local time on one of the weekdays (UTC).

    A wall time that DST skips (02:30 on the spring-forward night) counts as the instant an
    hour later on the clock; a repeated one (autumn) as its first occurrence.
    """
    tz, clock = zone(zone_name), parse_clock(at)
    local_day = now.astimezone(tz).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        wall = datetime.combine(day, clock, tzinfo=tz)
        # Normalise a skipped wall time through UTC (fold=0 takes the offset before the gap).
        candidate = wall.astimezone(UTC)
        if candidate >= now:
            return candidate
    raise AssertionError("a weekday always comes within 8 days")


def bucket(journey_id: int, step_id: str, customer_id: int) -> int:
    """A deterministic bucket 0..9999 for a customer at a split step of a journey."""
    digest = hashlib.sha256(f"{journey_id}:{step_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def split_branch(percents: Sequence[int], value: int) -> int:
    """The branch index a bucket falls in, by cumulative percentages."""
    edge = 0
    for i, percent in enumerate(percents):
        edge += percent * BUCKETS // 100
        if value < edge:
            return i
    return len(percents) - 1


def _compare(op: str, actual: Any, expected: Any) -> bool:
    """One filter comparison; values of different kinds never match an ordering."""
    if op == "exists":
        return actual is not None
    if op == "eq":
        return actual == expected
    if op == "ne":
        return actual != expected
    if op == "contains":
        if isinstance(actual, str) and isinstance(expected, str):
            return expected in actual
        return isinstance(actual, list) and expected in actual
    numbers = (int, float)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return False
    if not (
        (isinstance(actual, numbers) and isinstance(expected, numbers))
        or (isinstance(actual, str) and isinstance(expected, str))
    ):
        return False
    return {
        "gt": actual > expected,
        "gte": actual >= expected,
        "lt": actual < expected,
        "lte": actual <= expected,
    }[op]


def where_matches(where: Iterable, properties: Mapping[str, Any] | None) -> bool:
    """Whether every property filter holds for these properties."""
    props = properties or {}
    return all(_compare(w.op, props.get(w.property), w.value) for w in where)


def order_matches(trigger, *, total_minor: int, nth: int, skus: set, categories: set) -> bool:
    """Whether an order fires an order trigger (first/nth, over a value, containing a product)."""
    if trigger.nth is not None and nth != trigger.nth:
        return False
    if trigger.min_total_minor is not None and total_minor < trigger.min_total_minor:
        return False
    if trigger.sku is not None and trigger.sku not in skus:
        return False
    return trigger.category is None or trigger.category in categories


def reentry_allowed(
    policy: str, days: int, *, last_entered_at: datetime | None, live: bool, now: datetime
) -> bool:
    """Whether a customer may enter again (never two live enrolments in one journey)."""
    if live:
        return False
    if last_entered_at is None or policy == "always":
        return True
    if policy == "after_days":
        return last_entered_at <= now - timedelta(days=days)
    return False


def retry_delay(attempts: int) -> timedelta:
    """Back-off before retrying a failed step: 30 s, 2 min, 8 min, ... at most 6 h."""
    return timedelta(seconds=min(30 * 4 ** max(attempts - 1, 0), 6 * 3600))


# Scheduled triggers ---------------------------------------------------------------------------

# How long after its moment an occurrence may still fire (a day, with room for a DST day and
# a stopped scheduler): later runs of the job find the same occurrence and enrol nobody twice.
CATCH_UP = timedelta(hours=26)


def open_occurrence(
    now: datetime, *, zone_name: str | None, at: str, weekdays: Sequence[int] | None = None
) -> date | None:
    """The latest local day (on the weekdays) whose `at` moment in the zone has passed, while
    within CATCH_UP of it; None when no occurrence is open now."""
    tz, clock = zone(zone_name), parse_clock(at)
    today = now.astimezone(tz).date()
    for back in range(3):
        day = today - timedelta(days=back)
        if weekdays is not None and day.weekday() not in weekdays:
            continue
        moment = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
        if moment <= now:
            return day if now - moment < CATCH_UP else None
    return None


def zones_by_occurrence(
    zone_names: Iterable[str | None],
    now: datetime,
    *,
    at: str,
    weekdays: Sequence[int] | None = None,
) -> dict[date, list[str | None]]:
    """The customers' zone names grouped by the occurrence open in each now."""
    groups: dict[date, list[str | None]] = {}
    for name in zone_names:
        day = open_occurrence(now, zone_name=name, at=at, weekdays=weekdays)
        if day is not None:
            groups.setdefault(day, []).append(name)
    return groups


def anniversary_keys(day: date, offset_days: int) -> tuple[date, list[str]]:
    """The date whose anniversary fires on `day` with the offset, and its MM-DD keys
    (a 29 February fires on the 28th in other years)."""
    target = day - timedelta(days=offset_days)
    keys = [target.strftime("%m-%d")]
    if (target.month, target.day) == (2, 28) and not calendar.isleap(target.year):
        keys.append("02-29")
    return target, keys
