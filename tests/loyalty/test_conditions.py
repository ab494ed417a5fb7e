"""Segment conditions contributed by loyalty (`segments.conditions`): SQL on both databases
equals the reference evaluator; unknown fields are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patron.db import transaction
from patron.errors import PatronError
from patron.loyalty import service
from patron.manifest import installed
from patron.segments import rules
from patron.segments import service as segments
from patron.segments.evaluate import evaluate
from patron.segments.facts import Facts
from tests.factories import at
from tests.loyalty import helpers as h

NOW = at(100)


@pytest.fixture(autouse=True)
def _booted():
    """The composition root installed, so segments reads the contributed condition types."""
    installed()


def test_tier_balance_and_expiring_conditions_match_the_evaluator(db):
    h.setup(db, NOW, {**h.PROGRAMME, "return_window_days": 0, "expiry_months": 1})
    ids = [h.customer(db, name) for name in ("a", "b", "c")]
    with transaction(db.sessions) as s:
        service.award(
            session=s,
            customer_id=ids[0],
            points=600,
            reason="x",
            key="a",
            now=NOW - timedelta(days=20),
        )  # Gold; expires in about 10 days
        service.award(session=s, customer_id=ids[1], points=50, reason="x", key="b", now=NOW)
    facts = {
        ids[0]: {"tier": "Gold", "points_balance": 600, "points_expiring_30d": 600},
        ids[1]: {"tier": "Member", "points_balance": 50, "points_expiring_30d": 0},
        ids[2]: {},
    }
    trees = [
        {"type": "loyalty", "field": "tier", "op": "eq", "value": "Gold"},
        {"type": "loyalty", "field": "points_balance", "op": "lt", "value": 100},
        {"type": "loyalty", "field": "points_expiring_30d", "op": "gte", "value": 100},
        {
            "type": "and",
            "children": [
                {"type": "loyalty", "field": "points_expiring_7d", "op": "eq", "value": 0},
                {"type": "loyalty", "field": "tier", "op": "is_set"},
            ],
        },
    ]
    for tree in trees:
        with transaction(db.sessions) as s:
            query = segments.matching(session=s, rules_json=tree, customer_ids=ids, now=NOW)
            found = set(s.scalars(query))
        node = rules.parse_tree(tree)
        expected = {
            cid
            for cid, extra in facts.items()
            if evaluate(
                node, Facts(cid, {}, extra={"loyalty": extra}), now=NOW, resolve=lambda _: None
            )
        }
        assert found == expected, tree
    assert found == {ids[0], ids[1]}  # a's points expire in about 10 days, not within 7


def test_unknown_loyalty_field_is_refused():
    with pytest.raises(PatronError, match="field"):
        rules.parse_tree({"type": "loyalty", "field": "nope", "op": "eq", "value": 1})
