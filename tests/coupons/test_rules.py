"""Pure rules of coupons: the alphabet and generation, every refusing rule, discounts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.coupons import rules

NOW = datetime(2026, 3, 2, tzinfo=UTC)
CART = rules.Cart(
    (rules.Line("a", "shoes", 2, 1500), rules.Line("b", "hats", 1, 1000)), shipping_cents=495
)


def test_codes_use_only_the_unambiguous_alphabet_and_are_uniform_enough():
    codes = rules.codes_from_bytes(secrets.token_bytes(rules.bytes_needed(5000, 10)), 5000, 10)
    assert len(codes) == 5000 and len(set(codes)) == 5000
    letters = "".join(codes)
    assert not set(letters) & set("0O1IL")
    assert set(letters) <= set(rules.ALPHABET)
    counts = [letters.count(c) for c in rules.ALPHABET]
    assert max(counts) / min(counts) < 1.25  # rejection sampling: no letter favoured


@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=0, max_size=400), st.integers(1, 30), st.integers(4, 12))
def test_codes_from_any_bytes_have_the_length_and_never_exceed_the_count(raw, count, length):
    codes = rules.codes_from_bytes(raw, count, length, "P-")
    assert len(codes) <= count
    assert all(len(c) == length + 2 and c.startswith("P-") for c in codes)


def _terms(**kw):
    return rules.check_terms(rules.Terms(**{"discount_type": "percent", "percent": 10, **kw}))


@pytest.mark.parametrize(
    "terms, facts, rule",
    [
        ({"active": False}, {}, "inactive"),
        ({"starts_at": NOW + timedelta(days=1)}, {}, "not_started"),
        ({"ends_at": NOW}, {}, "expired"),
        ({}, {"code_owner": 99}, "foreign_code"),
        ({}, {"unique_code": True, "code_redeemed": 1}, "code_used"),
        ({"total_limit": 3}, {"total_redeemed": 3}, "total_limit"),
        ({"per_customer_limit": 1}, {"customer_redeemed": 1}, "per_customer_limit"),
        ({"segment_id": 4}, {"in_segment": False}, "segment"),
        ({"tier": "gold"}, {"tier": "silver"}, "tier"),
        ({"min_order_cents": 5000}, {}, "minimum_order"),
        ({"skus": ("zzz",)}, {}, "no_eligible_items"),
    ],
)
def test_each_rule_refuses_and_names_itself(terms, facts, rule):
    decision = rules.evaluate(_terms(**terms), rules.Facts(NOW, 1, **facts), CART)
    assert not decision.valid and decision.rule == rule
    assert decision.reason.startswith(f"{rule}:") and decision.discount_cents == 0


def test_discounts_percent_fixed_free_shipping_and_product_limits():
    facts = rules.Facts(NOW, 1, code_owner=1, tier="gold")
    assert rules.evaluate(_terms(percent=15), facts, CART).discount_cents == 600  # 4000*15%
    limited = _terms(percent=50, categories=("hats",))
    assert rules.evaluate(limited, facts, CART).discount_cents == 500
    fixed = _terms(discount_type="fixed", amount_cents=99999, skus=("a",))
    assert rules.evaluate(fixed, facts, CART).discount_cents == 3000  # capped at eligible
    ship = _terms(discount_type="free_shipping", tier="gold")
    assert rules.evaluate(ship, facts, CART) == rules.Decision(True, 495)


def test_bad_terms_name_their_field():
    for kw, field in [
        ({"percent": 0}, "percent"),
        ({"discount_type": "fixed"}, "amount_cents"),
        ({"discount_type": "bogus"}, "discount_type"),
        ({"total_limit": 0}, "total_limit"),
        ({"starts_at": NOW, "ends_at": NOW}, "ends_at"),
    ]:
        with pytest.raises(rules.TermsError) as caught:
            _terms(**kw)
        assert caught.value.field == field


limits = st.one_of(st.none(), st.integers(1, 5))


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(rules.DISCOUNT_TYPES),
    percent=st.integers(1, 100),
    amount=st.integers(1, 10_000),
    minimum=st.integers(0, 6000),
    total_limit=limits,
    per_customer=limits,
    used=st.integers(0, 6),
    mine=st.integers(0, 6),
    prices=st.lists(st.integers(0, 3000), max_size=4),
    shipping=st.integers(0, 900),
)
def test_a_valid_answer_respects_every_limit_and_never_overpays(
    kind, percent, amount, minimum, total_limit, per_customer, used, mine, prices, shipping
):
    terms = _terms(
        discount_type=kind,
        percent=percent,
        amount_cents=amount,
        min_order_cents=minimum,
        total_limit=total_limit,
        per_customer_limit=per_customer,
    )
    cart = rules.Cart(tuple(rules.Line("a", "c", 1, p) for p in prices), shipping_cents=shipping)
    facts = rules.Facts(NOW, 1, total_redeemed=used, customer_redeemed=mine)
    decision = rules.evaluate(terms, facts, cart)
    if decision.valid:
        assert total_limit is None or used < total_limit
        assert per_customer is None or mine < per_customer
        assert cart.subtotal >= minimum
        cap = shipping if kind == "free_shipping" else cart.subtotal
        assert 0 <= decision.discount_cents <= cap
    else:
        assert decision.discount_cents == 0 and decision.rule
