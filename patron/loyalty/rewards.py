"""The extension point `loyalty.reward_kinds`: what redeeming a reward hands the member.

A capability contributes `RewardKind(name, fulfil)` in its manifest (coupons adds "coupon");
`fulfil(session=, customer_id=, reward_config=, key=, now=) -> dict` runs inside the
redemption's transaction (so a refused redemption leaves nothing behind) and returns the
details shown to the member, e.g. `{"code": "..."}`. Built-ins: "free_product" and "custom".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from patron import manifest

POINT = "loyalty.reward_kinds"


@dataclass(frozen=True)
class RewardKind:
    """A kind of reward and how it is fulfilled."""

    name: str
    fulfil: Callable[..., dict]


def _free_product(*, session, customer_id, reward_config: dict, key: str, now) -> dict:
    """A product the shop hands over: its SKU and the member's claim reference."""
    return {"sku": reward_config.get("sku"), "claim": key[-12:].upper()}


def _custom(*, session, customer_id, reward_config: dict, key: str, now) -> dict:
    """A reward fulfilled by hand: its instructions."""
    return {"instructions": reward_config.get("instructions", "")}


BUILT_INS = (RewardKind("free_product", _free_product), RewardKind("custom", _custom))


def kinds() -> dict[str, RewardKind]:
    """Every reward kind: built-ins and those capabilities contribute."""
    found = {k.name: k for k in BUILT_INS}
    found.update({k.name: k for k in manifest.contributions(POINT)})
    return found
