"""Pure rules of the programme: its settings, earn rules, and points of orders (NumPy).

Points of a batch of orders are computed array-wise: an order's net amount (the paid total,
never more than its lines less its discount) is spread over its lines by their totals, each
line takes the best multiplier of the active rules that match its category or SKU, and the
sum is converted at `points_per_unit` per currency unit, times the tier's multiplier, rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

TRIGGERS = ("multiplier", "first_purchase", "birthday", "referral", "review", "survey", "event")
MAX_POINTS = 10**9


class Tier(BaseModel):
    """A tier: the qualifying amount (points earned or spend in minor units) and benefits."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    threshold: int = Field(ge=0, le=10**13)
    multiplier: float = Field(default=1.0, gt=0, le=100)
    benefits: dict[str, bool | str | int] = Field(default_factory=dict)


class Programme(BaseModel):
    """The programme's settings (one row, edited on the dashboard)."""

    model_config = ConfigDict(extra="forbid")

    # Earning runs once the programme is saved with `enabled` (a fresh install earns nothing).
    enabled: bool = True
    name: str = Field(default="Rewards", min_length=1, max_length=100)
    points_per_unit: float = Field(default=1.0, gt=0, le=10_000)
    rounding: Literal["floor", "nearest", "ceil"] = "floor"
    return_window_days: int = Field(default=30, ge=0, le=3650)
    expiry: Literal["none", "rolling", "fixed"] = "rolling"
    expiry_months: int = Field(default=12, ge=1, le=240)
    expiring_notice_days: int = Field(default=30, ge=1, le=365)
    # What 100 points are worth, in minor units (the liability report's value).
    value_cents_per_100: int = Field(default=100, ge=0, le=10**9)
    tier_basis: Literal["points", "spend"] = "points"
    tier_grace_days: int = Field(default=30, ge=0, le=3650)
    tiers: list[Tier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _tiers_ordered(self) -> Programme:
        """Tiers have distinct names and strictly rising thresholds, the first at 0."""
        thresholds = [t.threshold for t in self.tiers]
        if thresholds and (thresholds[0] != 0 or thresholds != sorted(set(thresholds))):
            raise ValueError("tier thresholds must start at 0 and rise strictly")
        if len({t.name for t in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must be distinct")
        return self


class PropertyFilter(BaseModel):
    """A tracked event's property equal to a value (`{"property": "plan", "equals": "pro"}`)."""

    model_config = ConfigDict(extra="forbid")

    property: str = Field(min_length=1, max_length=255)
    equals: str | int | float | bool


class RuleConfig(BaseModel):
    """An earn rule: a trigger, what it gives, its window, audience, limits and budget."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    trigger: Literal[TRIGGERS]  # type: ignore[valid-type]
    points: int = Field(default=0, ge=0, le=MAX_POINTS)
    multiplier: float = Field(default=1.0, gt=0, le=100)
    categories: list[str] = Field(default_factory=list)
    skus: list[str] = Field(default_factory=list)
    event_name: str | None = Field(default=None, max_length=255)
    filters: list[PropertyFilter] = Field(default_factory=list)
    segment_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    limit_count: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    limit_period_days: int = Field(default=30, ge=1, le=3650)
    budget_points: int | None = Field(default=None, ge=0, le=10**13)

    @model_validator(mode="after")
    def _consistent(self) -> RuleConfig:
        """Refuse rules that could never give anything or have a backwards window."""
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("starts_at and ends_at need a time zone")
        if self.trigger == "multiplier" and self.multiplier == 1.0:
            raise ValueError("a multiplier rule needs a multiplier other than 1")
        if self.trigger not in ("multiplier", "referral") and self.points == 0:
            raise ValueError(f"a {self.trigger} rule needs points above 0")
        if self.trigger == "event" and not self.event_name:
            raise ValueError("an event rule needs event_name")
        return self

    def live(self, now: datetime) -> bool:
        """Whether the rule's time window contains now."""
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )

    def matches_event(self, name: str | None, properties: dict) -> bool:
        """Whether a tracked event's name and properties pass this rule's filters."""
        if name != self.event_name:
            return False
        return all(properties.get(f.property) == f.equals for f in self.filters)


def round_points(raw: np.ndarray, mode: str) -> np.ndarray:
    """Round raw (fractional) points by the programme's mode, as int64 (never negative)."""
    # A tiny epsilon keeps 2.9999999 (from 0.1 * 30) at 3 under floor.
    if mode == "floor":
        out = np.floor(raw + 1e-9)
    elif mode == "ceil":
        out = np.ceil(raw - 1e-9)
    else:
        out = np.floor(raw + 0.5)
    return np.maximum(out, 0).astype(np.int64)


@dataclass(frozen=True)
class OrderBatch:
    """Orders as arrays: per order its paid total and discount; per line its order's index."""

    total: np.ndarray
    discount: np.ndarray
    line_order: np.ndarray
    line_total: np.ndarray
    line_category: Sequence[str | None]
    line_sku: Sequence[str | None]


def order_batch(orders: Sequence[dict]) -> OrderBatch:
    """Arrays of a list of `order.completed` payloads (their `lines` flattened)."""
    lines = [(i, line) for i, o in enumerate(orders) for line in o.get("lines") or ()]
    return OrderBatch(
        total=np.array([o["total_cents"] for o in orders], dtype=np.float64),
        discount=np.array([o.get("discount_cents") or 0 for o in orders], dtype=np.float64),
        line_order=np.array([i for i, _ in lines], dtype=np.int64),
        line_total=np.array([max(ln.get("total_cents") or 0, 0) for _, ln in lines], np.float64),
        line_category=[ln.get("category") for _, ln in lines],
        line_sku=[ln.get("sku") for _, ln in lines],
    )


def net_amounts(batch: OrderBatch) -> np.ndarray:
    """Each order's net amount: its paid total, at most its lines' sum less its discount."""
    n = len(batch.total)
    gross = np.bincount(batch.line_order, weights=batch.line_total, minlength=n)
    has_lines = gross > 0
    capped = np.minimum(batch.total, np.maximum(gross - batch.discount, 0))
    return np.where(has_lines, capped, np.maximum(batch.total, 0))


def line_rule(batch: OrderBatch, multipliers: Sequence[RuleConfig]) -> tuple[np.ndarray, ...]:
    """Per line, the index of its best matching multiplier rule (-1: none) and that factor."""
    best = np.full(len(batch.line_total), -1, dtype=np.int64)
    factor = np.ones(len(batch.line_total))
    for r, rule in enumerate(multipliers):
        cats, skus = set(rule.categories), set(rule.skus)
        if not cats and not skus:
            match = np.ones(len(best), dtype=bool)
        else:
            match = np.fromiter(
                (
                    c in cats or s in skus
                    for c, s in zip(batch.line_category, batch.line_sku, strict=True)
                ),
                dtype=bool,
                count=len(best),
            )
        better = match & (rule.multiplier > factor)
        best[better], factor[better] = r, rule.multiplier
    return best, factor


def order_raw_points(
    batch: OrderBatch, programme: Programme, multipliers: Sequence[RuleConfig]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Base raw points per order, extra raw points per (order, multiplier rule), net amounts.

    Orders without lines are matched by rules that name no category or SKU.
    """
    n, k = len(batch.total), len(multipliers)
    net = net_amounts(batch)
    rate = programme.points_per_unit / 100.0
    base = net * rate
    extra = np.zeros((n, k))
    gross = np.bincount(batch.line_order, weights=batch.line_total, minlength=n)
    if len(batch.line_total):
        share = np.divide(net, gross, out=np.zeros(n), where=gross > 0)[batch.line_order]
        best, factor = line_rule(batch, multipliers)
        hit = best >= 0
        np.add.at(
            extra,
            (batch.line_order[hit], best[hit]),
            batch.line_total[hit] * share[hit] * rate * (factor[hit] - 1),
        )
    bare = gross <= 0
    for r, rule in enumerate(multipliers):
        if not rule.categories and not rule.skus:
            extra[bare, r] = base[bare] * (rule.multiplier - 1)
    return base, extra, net


def cap_awards(
    customers: np.ndarray,
    points: np.ndarray,
    prior: np.ndarray,
    *,
    limit: int | None,
    remaining_budget: int | None,
) -> np.ndarray:
    """Which candidate awards of one rule pass its limits, in order: at most `limit` per
    customer (counting `prior`, each candidate's customer's earlier awards in the period) and
    a running total within the remaining budget. Returns a boolean mask."""
    allowed = points > 0
    if limit is not None and len(customers):
        order = np.argsort(customers, kind="stable")
        sorted_c = customers[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_c)) + 1]
        rank_sorted = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        rank = np.empty_like(rank_sorted)
        rank[order] = rank_sorted
        allowed &= prior + rank < limit
    if remaining_budget is not None:
        running = np.cumsum(np.where(allowed, points, 0))
        allowed &= running <= remaining_budget
    return allowed


def tier_multiplier(programme: Programme, tier: str | None) -> float:
    """The earn multiplier of a tier (1 without one)."""
    for t in programme.tiers:
        if t.name == tier:
            return t.multiplier
    return 1.0
