"""Settings of recommendations, read from the environment when used."""

from __future__ import annotations

import os

from patron.config import Setting
from patron.recommendations import rules

SETTINGS = (
    Setting(
        "PATRON_RECS_MAX_PER_CATEGORY",
        "3",
        "Recommendations shown from one category at most, in any list (diversity).",
    ),
    Setting(
        "PATRON_RECS_EXCLUDED_CATEGORIES",
        "",
        "Comma-separated product categories never recommended.",
    ),
    Setting(
        "PATRON_RECS_REPLENISHABLE_CATEGORIES",
        "",
        "Comma-separated categories recommended again to customers who bought them.",
    ),
    Setting(
        "PATRON_RECS_PRODUCT_URL",
        "https://shop.example/products/{sku}",
        "Shop link of a product in recommendation emails; {sku} is replaced.",
    ),
    Setting(
        "PATRON_RECS_TRAIN_INTERVAL_MINUTES",
        "1440",
        "Minutes between scheduled recommendation trainings (also run after each refresh).",
    ),
    Setting(
        "PATRON_RECS_HALF_LIFE_DAYS",
        "180",
        "Half-life in days of the time decay of purchases in recommendation training.",
    ),
)
DEFAULTS = {s.name: s.default for s in SETTINGS}


def value(name: str) -> str:
    """A setting's value from the environment, else its default."""
    return os.environ.get(name, DEFAULTS[name]).strip()


def policy() -> rules.Policy:
    """The business rules in force."""
    try:
        cap = max(1, int(value("PATRON_RECS_MAX_PER_CATEGORY")))
    except ValueError:
        cap = 3
    return rules.Policy(
        excluded_categories=rules.parse_categories(value("PATRON_RECS_EXCLUDED_CATEGORIES")),
        replenishable_categories=rules.parse_categories(
            value("PATRON_RECS_REPLENISHABLE_CATEGORIES")
        ),
        max_per_category=cap,
    )


def interval_minutes(_settings=None) -> int:
    """Minutes between scheduled trainings."""
    try:
        return max(5, int(value("PATRON_RECS_TRAIN_INTERVAL_MINUTES")))
    except ValueError:
        return 1440


def half_life_days() -> float:
    """Time-decay half-life of training."""
    try:
        return max(1.0, float(value("PATRON_RECS_HALF_LIFE_DAYS")))
    except ValueError:
        return 180.0
