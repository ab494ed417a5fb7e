"""The referrals segment condition (`segments.conditions`): SQL on both databases equals the
reference evaluator."""

from __future__ import annotations

import pytest

from patron.db import transaction
from patron.manifest import installed
from patron.referrals.tables import Referral
from patron.segments import rules
from patron.segments import service as segments
from patron.segments.evaluate import evaluate
from patron.segments.facts import Facts
from tests import factories
from tests.factories import at

NOW = at(100)


@pytest.fixture(autouse=True)
def _booted():
    """The composition root installed, so segments reads the contributed condition types."""
    installed()


def _referral(s, referrer: int, referee: int, state: str) -> None:
    s.add(
        Referral(
            referrer_customer_id=referrer,
            referee_customer_id=referee,
            code="C",
            source="api",
            state=state,
            attributed_at=NOW,
        )
    )


def test_qualified_and_pending_referral_counts_match_the_evaluator(db):
    with transaction(db.sessions) as s:
        ids = [factories.customer(s, f"c{n}").id for n in range(6)]
        a, b, c = ids[:3]
        _referral(s, a, ids[3], "qualified")
        _referral(s, a, ids[4], "qualified")
        _referral(s, b, ids[5], "pending")
    facts = {
        a: {"qualified_referrals": 2},
        b: {"pending_referrals": 1},
        c: {},
    }
    trees = [
        {"type": "referrals", "field": "qualified_referrals", "op": "gte", "value": 1},
        {"type": "referrals", "field": "qualified_referrals", "op": "eq", "value": 0},
        {"type": "referrals", "field": "pending_referrals", "op": "gte", "value": 1},
    ]
    found_sets = []
    for tree in trees:
        with transaction(db.sessions) as s:
            query = segments.matching(session=s, rules_json=tree, customer_ids=[a, b, c], now=NOW)
            found = set(s.scalars(query))
        node = rules.parse_tree(tree)
        expected = {
            cid
            for cid, extra in facts.items()
            if evaluate(
                node, Facts(cid, {}, extra={"referrals": extra}), now=NOW, resolve=lambda _: None
            )
        }
        assert found == expected, tree
        found_sets.append(found)
    assert found_sets == [{a}, {b, c}, {b}]
