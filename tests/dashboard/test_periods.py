"""Date ranges of the overview page and the changes shown beside each figure."""

from __future__ import annotations

from datetime import date

import pytest

from patron.dashboard import periods
from patron.errors import InvalidInput

TODAY = date(2025, 3, 31)


def test_default_and_presets_end_today_and_span_their_days():
    default = periods.choose_period(start=None, end=None, preset=None, today=TODAY)
    assert (default.end, default.days) == (TODAY, periods.DEFAULT_DAYS)
    for days in periods.PRESETS:
        chosen = periods.choose_period(start=None, end=None, preset=days, today=TODAY)
        assert (chosen.end, chosen.days) == (TODAY, days)


def test_previous_period_has_equal_length_and_ends_the_day_before():
    period = periods.choose_period(start="2025-02-01", end="2025-02-28", preset=None, today=TODAY)
    before = period.previous()
    assert before.days == period.days == 28
    assert before.end == date(2025, 1, 31) and before.start == date(2025, 1, 4)
    start, end = period.bounds
    assert (end - start).days == 28 and start.tzinfo is not None


@pytest.mark.parametrize(
    ("start", "end", "preset"),
    [
        ("2025-02-30", None, None),
        ("2025-03-02", "2025-03-01", None),
        ("x", "y", None),
        (None, None, 7),
        ("1990-01-01", "2025-01-01", None),
    ],
)
def test_bad_ranges_are_refused_with_a_message(start, end, preset):
    with pytest.raises(InvalidInput):
        periods.choose_period(start=start, end=end, preset=preset, today=TODAY)


def test_changes_name_their_direction():
    assert periods.relative_change(150, 100) == periods.Change("+50.0%", "up")
    assert periods.relative_change(50, 100).direction == "down"
    assert periods.relative_change(5, 0).text == "new"
    assert periods.relative_change(0, 0).direction == "flat"
    assert periods.point_change(0.25, 0.5) == periods.Change("-25.0 pts", "down")
    assert periods.point_change(None, 0.5).direction == "flat"
