"""Hypothesis strategies of random rule trees over the fields of the test data set."""

from __future__ import annotations

from hypothesis import strategies as st

from patron.segments.conditions import profile, purchases, scores
from patron.segments.conditions.fields import OPS
from patron.segments.conditions.jsonvalues import JSON_OPS
from tests.segments.conftest import (
    ATTR_KEYS,
    CATEGORIES,
    EVENTS,
    SKUS,
    STAGES,
    TEXTS,
)

DAYS = st.sampled_from([0, 1, 7, 30, 90, 365, 36500])
BIRTHDAY_DAYS = st.sampled_from([0, 1, 6, 8, 10, 30, 200, 364, 365, 366])
DATES = st.sampled_from(["2024-05-01", "2025-01-01", "1990-06-15", "2025-02-19T12:00:00+00:00"])
NUMBERS = {
    "order_count": [0, 1, 2, 3, 5],
    "purchase_days": [0, 1, 2, 3],
    "total_spent_cents": [0, 1000, 2500, 5000],
    "average_order_cents": [0, 500, 1000, 2500, 3333],
    "recency_score": [1, 3, 5],
    "frequency_score": [1, 3, 5],
    "monetary_score": [1, 3, 5],
    "fm_score": [1, 2, 3, 5],
    "p_alive": [0, 0.25, 0.5, 0.9],
    "churn_risk": [0.1, 0.5, 0.75],
    "expected_purchases_90d": [1, 1.5],
    "expected_spend_cents": [0, 1000],
    "predicted_clv_cents": [0, 5000, 90000],
    "clv_percentile": [50, 89.9, 90],
}
STRINGS = {
    "lifecycle_stage": list(STAGES),
    "rfm_segment": ["champions", "lost"],
    "locale": ["en-US", "en", "de-DE", "EN"],
    "email": ["ann@example.com", "example", "CARL", "x.org", "bob"],
    "first_name": ["Ann", "ann", "B", "Carla", "a"],
    "last_name": ["Ann", "bo", "a"],
    "external_id": ["c1", "c2", "c", "c3"],
    "phone": ["+100", "+1"],
    "time_zone": ["UTC"],
}


def _value(field, op):
    """A value strategy for a field condition."""
    if op in ("is_set", "not_set", "this_month"):
        return st.none()
    if op == "next_days":
        return BIRTHDAY_DAYS
    if op in ("within_days", "before_days"):
        return DAYS
    if op in ("after", "before"):
        return DATES
    pool = NUMBERS.get(field.name) if field.kind == "number" else STRINGS.get(field.name, TEXTS)
    if op in ("in", "not_in"):
        return st.lists(st.sampled_from(pool), min_size=1, max_size=3)
    return st.sampled_from(pool)


def _field_condition(type_name: str, fields: dict):
    """A strategy of conditions on one of fields."""

    def for_field(name):
        field = fields[name]
        return st.sampled_from(sorted(OPS[field.kind])).flatmap(
            lambda op: _value(field, op).map(
                lambda v: {"type": type_name, "field": name, "op": op, "value": v}
            )
        )

    return st.sampled_from(sorted(fields)).flatmap(for_field)


def _json_value(op):
    """A value strategy for a JSON filter."""
    if op in ("is_set", "not_set"):
        return st.none()
    if op in ("gt", "gte", "lt", "lte"):
        return st.sampled_from([-2, 0, 3, 7.5, 12.5, 40])
    if op in ("after", "before"):
        return DATES
    if op in ("contains", "starts_with"):
        return st.sampled_from(["go", "G", "ol", "sho", "Shoes", "50%", "o_b", "2024"])
    scalars = st.sampled_from(
        ["gold", "Gold", "shoes", "Shoes", "40", 3, 7.5, 40, 12.5, 0, True, False]
    )
    if op in ("in", "not_in"):
        return st.lists(
            st.sampled_from(["gold", "silver", "shoes", 3, 40, 7.5]), min_size=1, max_size=3
        )
    return scalars


def _json_filter(keys):
    """A strategy of JSON filters over keys."""
    return st.tuples(st.sampled_from(keys), st.sampled_from(sorted(JSON_OPS))).flatmap(
        lambda ko: _json_value(ko[1]).map(lambda v: {"key": ko[0], "op": ko[1], "value": v})
    )


ATTRIBUTE = _json_filter(list(ATTR_KEYS)).map(lambda f: {"type": "attribute", **f})
CONSENT = st.builds(
    lambda ch, s: {"type": "consent", "channel": ch, "status": s},
    st.sampled_from(["email", "sms", "push"]),
    st.sampled_from(["granted", "denied", "unsubscribed", "unknown"]),
)
BOUGHT = st.one_of(
    st.builds(
        lambda by, v, d: {"type": "bought", "by": by, "value": v, "within_days": d},
        st.sampled_from(["sku", "category"]),
        st.lists(st.sampled_from([*SKUS, *[c for c in CATEGORIES if c]]), min_size=1, max_size=2),
        st.one_of(st.none(), DAYS),
    ),
    st.builds(
        lambda v, d: {"type": "bought", "by": "product_id", "value": v, "within_days": d},
        st.sampled_from([1, 2, [1, 2]]),
        st.one_of(st.none(), DAYS),
    ),
)
COUPON = st.builds(
    lambda c, d: {"type": "coupon", "code": c, "within_days": d},
    st.sampled_from([None, "SAVE10", "WELCOME", "NOPE"]),
    st.one_of(st.none(), DAYS),
)
EVENT = st.builds(
    lambda name, op, n, d, where: {
        "type": "event",
        "name": name,
        "op": op,
        "count": n,
        "within_days": d,
        "where": where,
    },
    st.sampled_from([*EVENTS, "never"]),
    st.sampled_from(["at_least", "at_most", "exactly"]),
    st.integers(0, 3),
    st.one_of(st.none(), DAYS),
    st.lists(_json_filter(["category", "price", "gift"]), max_size=2),
)


def conditions(segment_ids: list[int]):
    """Any leaf condition (segment references to the given saved segments)."""
    leaves = [
        _field_condition("profile", profile.FIELDS),
        _field_condition("purchase", purchases.FIELDS),
        _field_condition("score", scores.FIELDS),
        ATTRIBUTE,
        CONSENT,
        BOUGHT,
        COUPON,
        EVENT,
    ]
    if segment_ids:
        leaves.append(
            st.sampled_from(segment_ids).map(lambda sid: {"type": "segment", "segment_id": sid})
        )
    return st.one_of(*leaves)


def trees(segment_ids: list[int] | None = None):
    """Random rule trees: nested and / or / not groups over random conditions."""
    return st.recursive(
        conditions(segment_ids or []),
        lambda children: st.builds(
            lambda t, c: {"type": t, "children": c},
            st.sampled_from(["and", "or", "not"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        max_leaves=6,
    )
