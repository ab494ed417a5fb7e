"""Order conditions: bought a product or category, used a coupon (ever or in the last N days)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import ValidationInfo, field_validator

from patron.customers.rules import COUNTED_EXCLUDED
from patron.segments.conditions.registry import (
    ConditionModel,
    ConditionType,
    check_days,
    check_text,
    register,
)

BY = {"sku": "product SKU", "category": "product category", "product_id": "product id"}


class BoughtCondition(ConditionModel):
    """`{"type": "bought", "by": "category", "value": ["shoes"], "within_days": 90}`."""

    type: Literal["bought"]
    by: Literal["sku", "category", "product_id"]
    value: Any
    within_days: int | None = None

    @field_validator("value")
    @classmethod
    def _values(cls, value: Any, info: ValidationInfo) -> list:
        """One value or a list of 1 to 500: ids are positive integers, others texts."""
        values = value if isinstance(value, list) else [value]
        if not 1 <= len(values) <= 500:
            raise ValueError("must be one value or a list of 1 to 500 values")
        if info.data.get("by") == "product_id":
            if any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in values):
                raise ValueError("product ids must be positive whole numbers")
            return values
        if any(not isinstance(v, str) for v in values):
            raise ValueError("must be a text or a list of texts")
        return [check_text(v) for v in values]

    _days = field_validator("within_days")(classmethod(lambda cls, v: check_days(v)))


class CouponCondition(ConditionModel):
    """`{"type": "coupon", "code": "SUMMER"}`; no code: any coupon."""

    type: Literal["coupon"]
    code: str | None = None
    within_days: int | None = None

    _code = field_validator("code")(classmethod(lambda cls, v: v if v is None else check_text(v)))
    _days = field_validator("within_days")(classmethod(lambda cls, v: check_days(v)))


def _orders(facts, ectx, within_days):
    """The customer's counted orders in the window."""
    since = None if within_days is None else ectx.now - timedelta(days=within_days)
    return [
        o
        for o in facts.orders
        if o.status not in COUNTED_EXCLUDED and (since is None or o.placed_at >= since)
    ]


def _evaluate_bought(cond: BoughtCondition, facts, ectx) -> bool:
    """Any counted order in the window with a line matching one of the values."""
    return any(
        getattr(line, cond.by) in cond.value
        for order in _orders(facts, ectx, cond.within_days)
        for line in order.lines
    )


def _evaluate_coupon(cond: CouponCondition, facts, ectx) -> bool:
    """Any counted order in the window with the coupon."""
    return any(
        (o.coupon_code == cond.code) if cond.code else bool(o.coupon_code)
        for o in _orders(facts, ectx, cond.within_days)
    )


def _window(days: int | None) -> str:
    """' in the last N days' or ''."""
    return "" if days is None else f" in the last {days} days"


def _days_param() -> dict:
    """The optional 'in the last N days' input."""
    return {
        "name": "within_days",
        "input": "number",
        "label": "in the last … days (optional)",
        "optional": True,
    }


register(
    ConditionType(
        name="bought",
        label="Bought",
        model=BoughtCondition,
        evaluate=_evaluate_bought,
        describe=lambda c: (
            f"bought {BY[c.by]} {', '.join(map(str, c.value))}{_window(c.within_days)}"
        ),
        activity=True,
        catalogue=lambda: [
            {
                "key": "bought",
                "group": "Purchases",
                "label": "Bought",
                "template": {"type": "bought"},
                "params": [
                    {
                        "name": "by",
                        "input": "select",
                        "label": "by",
                        "options": [[k, v] for k, v in BY.items()],
                    },
                    {"name": "value", "input": "text", "label": "value"},
                    _days_param(),
                ],
            }
        ],
    )
)
register(
    ConditionType(
        name="coupon",
        label="Used a coupon",
        model=CouponCondition,
        evaluate=_evaluate_coupon,
        describe=lambda c: f"used coupon {c.code or '(any)'}{_window(c.within_days)}",
        activity=True,
        catalogue=lambda: [
            {
                "key": "coupon",
                "group": "Purchases",
                "label": "Used a coupon",
                "template": {"type": "coupon"},
                "params": [
                    {"name": "code", "input": "text", "optional": True, "label": "code (optional)"},
                    _days_param(),
                ],
            }
        ],
    )
)
