"""Pure generator of a shop with planted structure, for tests and bench/recommend.py.

Every product has a complement in another category, bought in the same basket or in the
customer's next order; categories are price ladders; customers favour one category and view
its neighbouring rungs. Generated set-based with NumPy: no loop over orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.recommendations import model

LINES_PER_ORDER = 1.92  # the anchor, 30% a second item, 35% its complement, some carried over


@dataclass(frozen=True)
class Shop:
    """Interactions plus the catalogue and the planted complement of each item."""

    interactions: model.Interactions
    category: np.ndarray
    price: np.ndarray
    complement: np.ndarray
    days: float


def generate(
    *,
    customers: int,
    lines: int,
    categories: int = 40,
    per_category: int = 50,
    days: float = 365.0,
    seed: int = 0,
) -> Shop:
    """A shop of about `lines` purchase lines (plus views) by `customers` customers."""
    rng = np.random.default_rng(seed)
    n_items = categories * per_category
    category = np.repeat(np.arange(categories), per_category)
    rung = np.tile(np.arange(per_category), categories)
    price = ((1000 + 500 * rung) * (1 + category % 5)).astype(np.int64)
    partner = (np.arange(categories) + 1 + rng.integers(0, categories - 1, categories)) % categories
    complement = partner[category] * per_category + rng.permutation(per_category)[rung]
    n_orders = max(int(lines / LINES_PER_ORDER), customers)
    favourite = rng.integers(0, categories, customers)
    user = np.sort(rng.integers(0, customers, n_orders))
    user[:customers] = np.arange(customers)
    user.sort()
    day = rng.uniform(0, days, n_orders)
    order = np.lexsort((day, user))
    user, day = user[order], day[order]
    zipf = 1.0 / np.arange(1, per_category + 1) ** 0.9
    zipf /= zipf.sum()
    cat = np.where(
        rng.random(n_orders) < 0.7, favourite[user], rng.integers(0, categories, n_orders)
    )
    anchor = cat * per_category + rng.choice(per_category, n_orders, p=zipf)
    other = rng.integers(0, categories, n_orders) * per_category + rng.choice(
        per_category, n_orders, p=zipf
    )
    with_other = rng.random(n_orders) < 0.3
    same_basket = rng.random(n_orders) < 0.35
    nxt = np.zeros(n_orders, dtype=bool)
    nxt[1:] = (user[1:] == user[:-1]) & (rng.random(n_orders - 1) < 0.35)
    prev_anchor = np.roll(anchor, 1)
    ids = np.arange(n_orders)
    basket = np.concatenate([ids, ids[with_other], ids[same_basket], ids[nxt]])
    item = np.concatenate(
        [anchor, other[with_other], complement[anchor[same_basket]], complement[prev_anchor[nxt]]]
    )
    viewers = rng.random(n_orders) < 0.5
    step = rng.choice([-2, -1, 1, 2], n_orders)
    viewed = cat * per_category + np.clip(anchor % per_category + step, 0, per_category - 1)
    when = np.concatenate([day[basket % n_orders], day[viewers] - 0.01])
    it = model.Interactions(
        user=np.concatenate([user[basket], user[viewers]]),
        item=np.concatenate([item, viewed[viewers]]),
        basket=np.concatenate([basket, np.full(int(viewers.sum()), -1)]),
        day=when,
        n_users=customers,
        n_items=n_items,
    )
    return Shop(it, category, price, complement, days)
