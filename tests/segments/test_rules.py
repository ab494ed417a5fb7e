"""Pure rules of segments: validation with paths, birthday windows, JSON filters, cycles."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from patron.errors import InvalidInput
from patron.segments import rules
from patron.segments.conditions.fields import birthday_window
from patron.segments.conditions.jsonvalues import JsonFilter, json_py
from patron.segments.evaluate import evaluate
from patron.segments.facts import Facts


def _details(tree) -> list[dict]:
    """The validation details of an invalid tree."""
    with pytest.raises(InvalidInput) as caught:
        rules.parse_tree(tree)
    assert caught.value.status == 422
    return caught.value.details


def _wrap(*children) -> dict:
    """An and-group of children."""
    return {"type": "and", "children": list(children)}


@pytest.mark.parametrize(
    ("condition", "path", "words"),
    [
        (
            {"type": "profile", "field": "password", "op": "eq", "value": "x"},
            "field",
            "unknown field",
        ),
        ({"type": "profile", "field": "email", "op": "gt", "value": "x"}, "op", "does not apply"),
        ({"type": "profile", "field": "email", "op": "eq", "value": 3}, "value", "text"),
        (
            {"type": "profile", "field": "email", "op": "eq", "value": "x", "sql": "1"},
            "sql",
            "unknown field",
        ),
        (
            {"type": "purchase", "field": "order_count", "op": "gte", "value": -1},
            "value",
            "between",
        ),
        (
            {"type": "purchase", "field": "order_count", "op": "gte", "value": 2e9},
            "value",
            "between",
        ),
        ({"type": "purchase", "field": "order_count", "op": "gte", "value": 1.5}, "value", "whole"),
        (
            {"type": "purchase", "field": "order_count", "op": "gte", "value": True},
            "value",
            "number",
        ),
        (
            {"type": "purchase", "field": "last_order_at", "op": "within_days", "value": -3},
            "value",
            "between",
        ),
        (
            {"type": "purchase", "field": "last_order_at", "op": "within_days", "value": 36501},
            "value",
            "between",
        ),
        (
            {"type": "purchase", "field": "last_order_at", "op": "after", "value": "yesterday"},
            "value",
            "ISO date",
        ),
        (
            {"type": "profile", "field": "birthday", "op": "next_days", "value": 400},
            "value",
            "between",
        ),
        ({"type": "profile", "field": "email", "op": "is_set", "value": "x"}, "value", "no value"),
        ({"type": "event", "name": "v", "count": 2_000_000_000}, "count", "between"),
        ({"type": "event", "name": "v", "within_days": 99999}, "within_days", "between"),
        ({"type": "event", "name": "", "count": 1}, "name", "characters"),
        (
            {"type": "event", "name": "v", "where": [{"key": "a'b", "op": "eq", "value": 1}]},
            "where[0].key",
            "letters",
        ),
        (
            {"type": "event", "name": "v", "where": [{"key": "a", "op": "gt", "value": "x"}]},
            "where[0].value",
            "number",
        ),
        ({"type": "bought", "by": "sku", "value": []}, "value", "list"),
        ({"type": "bought", "by": "product_id", "value": ["x"]}, "value", "whole"),
        ({"type": "consent", "channel": "fax", "status": "granted"}, "channel", "email"),
        ({"type": "score", "field": "p_alive", "op": "gt", "value": 2}, "value", "between"),
        ({"type": "attribute", "key": "plan", "op": "in", "value": "gold"}, "value", "list"),
        ({"type": "segment", "segment_id": 0}, "segment_id", "positive"),
        ({"type": "coupon", "within_days": -1}, "within_days", "between"),
    ],
)
def test_bad_conditions_are_refused_with_the_path_of_the_value(condition, path, words):
    details = _details(_wrap({"type": "coupon"}, {"type": "coupon"}, condition))
    assert details[0]["path"] == f"rules.children[2].{path}"
    assert words in details[0]["message"]


def test_structure_errors_name_their_place():
    details = _details(
        _wrap(
            {"type": "or", "children": []},
            {"type": "nope"},
            "text",
            {"type": "not", "children": [{"type": "coupon"}], "x": 1},
        )
    )
    paths = [d["path"] for d in details]
    assert paths == [
        "rules.children[0].children",
        "rules.children[1].type",
        "rules.children[2]",
        "rules.children[3].x",
    ]
    assert _details({"type": "and", "children": []})[0]["path"] == "rules.children"
    assert _details([])[0]["path"] == "rules"


def test_depth_and_size_are_bounded():
    deep: dict = {"type": "coupon"}
    for _ in range(rules.MAX_DEPTH + 1):
        deep = _wrap(deep)
    assert "nest" in _details(deep)[0]["message"]
    wide = _wrap(*[{"type": "coupon"}] * (rules.MAX_NODES + 1))
    assert "at most" in _details(wide)[0]["message"]


def test_parsed_trees_round_trip_to_json():
    tree = _wrap(
        {"type": "event", "name": "v", "where": [{"key": "k", "op": "is_set"}]},
        {"type": "not", "children": [{"type": "consent", "channel": "sms"}]},
    )
    stored = rules.to_json(rules.parse_tree(tree))
    assert stored["children"][0]["count"] == 1
    assert stored["children"][1]["children"][0]["status"] == "granted"
    assert rules.to_json(rules.parse_tree(stored)) == stored


def test_find_cycle_follows_references():
    graph = {1: [2], 2: [3], 3: [1], 4: [1]}
    assert rules.find_cycle(1, lambda s: graph.get(s, [])) == [1, 2, 3, 1]
    assert rules.find_cycle(4, lambda s: graph.get(s, [])) is None
    assert rules.find_cycle(5, lambda s: {5: [5]}.get(s, [])) == [5, 5]


def test_activity_driven_looks_through_referenced_segments():
    stored = {
        7: rules.parse_tree(_wrap({"type": "coupon"})),
        8: rules.parse_tree(_wrap({"type": "consent", "channel": "email"})),
    }
    assert rules.activity_driven(
        rules.parse_tree(_wrap({"type": "segment", "segment_id": 7})), stored.get
    )
    assert not rules.activity_driven(
        rules.parse_tree(_wrap({"type": "segment", "segment_id": 8})), stored.get
    )


@pytest.mark.parametrize(
    ("today", "days", "expected"),
    [
        (date(2025, 3, 10), 5, (310, 315, False)),
        (date(2025, 12, 28), 7, (1228, 104, True)),
        (date(2025, 2, 20), 8, (220, 229, False)),  # ends 28 Feb of a non-leap year
        (date(2024, 2, 20), 8, (220, 228, False)),  # leap year: 29 Feb is its own day
        (date(2025, 3, 1), 0, (301, 301, False)),
    ],
)
def test_birthday_window(today, days, expected):
    now = datetime(today.year, today.month, today.day, 8, tzinfo=UTC)
    assert birthday_window(now, days) == expected
    assert birthday_window(now, 365) is None


@pytest.mark.parametrize(
    ("today", "days", "matches"),
    [
        (date(2025, 2, 27), 1, True),
        (date(2025, 2, 28), 0, True),
        (date(2025, 3, 1), 30, False),
        (date(2024, 2, 28), 0, False),
        (date(2024, 2, 28), 1, True),
        (date(2025, 12, 30), 60, True),
    ],
)
def test_leap_day_birthdays_in_python(today, days, matches):
    facts = Facts(1, {"birthday": date(2000, 2, 29)})
    tree = rules.parse_tree(
        {"type": "profile", "field": "birthday", "op": "next_days", "value": days}
    )
    now = datetime(today.year, today.month, today.day, tzinfo=UTC)
    assert evaluate(tree, facts, now=now) is matches


def test_json_filters_respect_the_kind_of_value():
    obj = {"n": 3, "s": "3", "b": True, "z": None, "d": "2024-05-01T10:00:00Z"}
    assert json_py(obj, JsonFilter(key="n", op="eq", value=3))
    assert not json_py(obj, JsonFilter(key="s", op="eq", value=3))
    assert json_py(obj, JsonFilter(key="s", op="eq", value="3"))
    assert json_py(obj, JsonFilter(key="b", op="eq", value=True))
    assert not json_py(obj, JsonFilter(key="n", op="eq", value=True))
    assert not json_py(obj, JsonFilter(key="z", op="is_set"))
    assert json_py(obj, JsonFilter(key="missing", op="not_set"))
    assert json_py(obj, JsonFilter(key="d", op="after", value="2024-05-01"))
    assert not json_py(obj, JsonFilter(key="d", op="before", value="2024-05-01"))


def test_describe_reads_like_a_sentence():
    tree = rules.parse_tree(
        _wrap(
            {"type": "event", "name": "viewed", "count": 2, "within_days": 30},
            {
                "type": "not",
                "children": [{"type": "purchase", "field": "order_count", "op": "gte", "value": 1}],
            },
        )
    )
    assert rules.describe(tree) == (
        "all of (performed viewed at least 2 times in the last 30 days; none of (Orders ≥ 1))"
    )


def test_relative_times_use_the_given_now():
    now = datetime(2025, 6, 1, tzinfo=UTC)
    facts = Facts(1, {"created_at": now - timedelta(days=10)})
    recent = rules.parse_tree(
        {"type": "profile", "field": "created_at", "op": "within_days", "value": 10}
    )
    assert evaluate(recent, facts, now=now)
    assert not evaluate(recent, facts, now=now + timedelta(seconds=1))
