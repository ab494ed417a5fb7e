"""What loyalty lends to coupons (tier gating) and advocates (perks), through their points."""

from __future__ import annotations

from patron import capabilities
from patron.advocates import service as advocates
from patron.coupons import service as coupons
from patron.db import transaction
from tests.factories import at
from tests.loyalty import helpers as h

NOW = at(1)
PROGRAMME = h.PROGRAMME | {
    "tiers": [
        {"name": "Base", "threshold": 0},
        {"name": "Gold", "threshold": 500, "multiplier": 2, "benefits": {"free_shipping": True}},
    ]
}


def test_coupons_gate_on_the_loyalty_tier_and_ambassadors_see_its_perks(sqlite_db):
    capabilities.boot()
    db = sqlite_db
    h.setup(db, NOW, programme=PROGRAMME)
    gold, base = h.customer(db, "gold"), h.customer(db, "base")
    h.order(db, "o1", "gold", 60000)
    h.order(db, "o2", "base", 1000)
    h.pump(db, NOW)
    with transaction(db.sessions) as s:
        assert coupons.tier_of(s, gold) == "Gold"
        assert coupons.tier_of(s, base) == "Base"
        perks = advocates.perks(session=s, customer_ids=[gold, base])
    assert perks[gold][:3] == ["Gold tier", "2x points", "free shipping"]
    assert perks[base][0] == "Base tier"
