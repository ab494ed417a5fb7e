"""Compiled SQL equals the plain-Python evaluation of the same random rule trees."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from patron.db import transaction
from patron.segments.compile import compile_tree
from patron.segments.evaluate import evaluate
from patron.segments.rules import parse_tree
from patron.segments.tables import Segment
from tests.segments.conftest import NOW
from tests.segments.strategies import trees

# Saved segments the random trees may refer to (inlined when compiled).
SAVED = {
    901: {
        "type": "and",
        "children": [{"type": "purchase", "field": "order_count", "op": "gte", "value": 2}],
    },
    902: {
        "type": "or",
        "children": [
            {"type": "segment", "segment_id": 901},
            {"type": "event", "name": "view", "op": "at_least", "count": 2, "within_days": 30},
        ],
    },
}
NOWS = st.sampled_from(
    [
        NOW,
        NOW.replace(month=12, day=25),
        NOW.replace(year=2024, day=27),
        NOW.replace(month=3, day=1),
    ]
)
CHECKS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def saved(db) -> None:
    """Store the segments random trees refer to."""
    with transaction(db.sessions) as s:
        s.execute(
            insert(Segment),
            [
                {
                    "id": sid,
                    "name": f"saved {sid}",
                    "description": "",
                    "rules": tree,
                    "member_count": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for sid, tree in SAVED.items()
            ],
        )


def _resolve(segment_id: int):
    """Parsed trees of the saved segments."""
    return parse_tree(SAVED[segment_id]) if segment_id in SAVED else None


@CHECKS
@given(data=st.data())
def test_sql_matches_python_on_random_trees(db, dataset, saved, data):
    tree = parse_tree(data.draw(trees(list(SAVED)), label="tree"))
    now = data.draw(NOWS, label="now")
    expected = {
        cid
        for cid, facts in dataset.facts.items()
        if evaluate(tree, facts, now=now, resolve=_resolve)
    }
    compiled = compile_tree(tree, now=now, resolve=_resolve)
    with transaction(db.sessions) as s:
        got = set(s.scalars(compiled.members()))
        counted = s.scalar(compiled.count())
        some = data.draw(
            st.sets(st.sampled_from(sorted(dataset.facts)), max_size=6), label="restricted to"
        )
        restricted = compile_tree(tree, now=now, resolve=_resolve, customer_ids=some)
        got_some = set(s.scalars(restricted.members()))
    assert got == expected
    assert counted == len(expected)
    assert got_some == expected & some


def test_explain_lists_the_leaves_each_customer_meets(db, dataset):
    tree = parse_tree(
        {
            "type": "or",
            "children": [
                {"type": "purchase", "field": "order_count", "op": "gte", "value": 2},
                {
                    "type": "not",
                    "children": [{"type": "consent", "channel": "email", "status": "granted"}],
                },
            ],
        }
    )
    compiled = compile_tree(tree, now=NOW)
    with transaction(db.sessions) as s:
        rows = s.execute(compiled.explain(100)).all()
    assert rows, "the data set should have matching customers"
    for row in rows:
        facts = dataset.facts[row.id]
        assert row.leaf_0 == int((facts.stats.get("order_count") or 0) >= 2)
        assert row.leaf_1 == int(facts.consents.get("email", "unknown") != "granted")
        assert row.leaf_0 or row.leaf_1


TRICKY = [
    {"type": "attribute", "key": "plan", "op": "in", "value": [3, 7.5]},
    {"type": "attribute", "key": "plan", "op": "eq", "value": 7.5},
    {"type": "attribute", "key": "plan", "op": "contains", "value": "50%"},
    {"type": "profile", "field": "last_name", "op": "starts_with", "value": "o_b"},
    {"type": "profile", "field": "birthday", "op": "next_days", "value": 8},
    {
        "type": "not",
        "children": [{"type": "purchase", "field": "order_count", "op": "gte", "value": 1}],
    },
    {"type": "not", "children": [{"type": "event", "name": "view", "count": 2}]},
    {"type": "not", "children": [{"type": "consent", "channel": "email"}]},
]


@pytest.mark.parametrize("rules", TRICKY)
def test_tricky_trees(db, dataset, rules):
    tree = parse_tree(rules)
    expected = {cid for cid, facts in dataset.facts.items() if evaluate(tree, facts, now=NOW)}
    with transaction(db.sessions) as s:
        assert set(s.scalars(compile_tree(tree, now=NOW).members())) == expected
