"""Pure rules of referrals: normalisation and each self-referral rule, windows, programme."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from patron.referrals import rules


def test_normalisers_see_through_disguises():
    assert rules.normalise_email(" A.Nn+promo@GoogleMail.com ") == "ann@gmail.com"
    assert rules.normalise_email("a.nn+x@example.com") == "a.nn@example.com"
    assert rules.normalise_email("nope") is None
    assert rules.normalise_phone("+44 (0)20 7946-0958") == rules.normalise_phone("020 7946 0958")
    assert rules.normalise_phone("12") is None
    assert rules.normalise_address("12 Baker Street, London") == rules.normalise_address(
        {"line1": "12 baker st", "city": "LONDON"}
    )


BASE = rules.identity(1, email="ann@example.com", phone="0207946095", address="1 High Road x")


@pytest.mark.parametrize(
    "referee, rule",
    [
        (rules.identity(1), "self_referral"),
        (rules.identity(2, email="ANN+2@example.com"), "self_referral_email"),
        (rules.identity(2, phone="+44 207 946 095"), "self_referral_phone"),
        (rules.identity(2, address="1 high rd, X"), "self_referral_address"),
        (rules.identity(2, devices=["d1"]), "self_referral_device"),
        (rules.identity(2, anonymous_ids=["a1"]), "self_referral_anonymous_id"),
        (rules.identity(2, email="bob@example.com", devices=["d2"]), None),
    ],
)
def test_each_self_referral_rule(referee, rule):
    referrer = rules.Identity(
        **{**vars(BASE), "devices": frozenset({"d1"}), "anonymous_ids": frozenset({"a1"})}
    )
    assert rules.self_referral(referrer, referee) == rule


def test_windows_caps_and_programme_checks():
    p = rules.Programme(velocity_minutes=60, velocity_count=3, cap=2)
    now = datetime(2026, 3, 2, 12, 41, tzinfo=UTC)
    assert rules.velocity_window(now, p) == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert rules.too_fast(3, p) and not rules.too_fast(2, p)
    assert rules.over_cap(2, p) and not rules.over_cap(1, p)
    assert rules.first_order_rule(10, rules.Programme(min_order_cents=11)) == "minimum_order"
    floor = rules.Programme(min_order_cents=2000)
    assert rules.refund_rule(3000, 500, floor) is None  # 2500 left: still above the minimum
    assert rules.refund_rule(3000, 1500, floor) == "refunded"
    assert rules.refund_rule(3000, 3000, rules.Programme()) == "refunded"
    with pytest.raises(rules.ProgrammeError, match="reward"):
        rules.Programme.from_dict({"reward": "coupon"})
    with pytest.raises(rules.ProgrammeError, match="cap"):
        rules.Programme.from_dict({"cap": 0})
