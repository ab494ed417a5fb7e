"""Message template context of recommendations: "picked for you" and the cross-sell list.

Contributed to `messages.context`: `recommendations` (personal, up to 4), `cross_sell`
(from the latest order, up to 4) and `recommendations_fallback` (True when the picks are the
shop's popular items). Three queries for any number of customers (four before the first
training). Each product has `url`, the shop link tagged with its kind, so clicks are counted as
recommendation clicks.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from patron.recommendations import rules, serving

SHOWN = 4


def _as_dict(item: serving.Recommended) -> dict:
    """A product as template variables."""
    return {
        "sku": item.sku,
        "name": item.name,
        "category": item.category,
        "price_cents": item.price_cents,
        "price": f"{item.price_cents / 100:.2f}",
        "currency": item.currency,
        "url": item.url,
    }


def message_context(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """`recommendations`, `cross_sell` and `recommendations_fallback` of each customer."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    bought, last = serving.histories(session, ids)
    seeds = {p for products in last.values() for p in products}
    lists = serving.stored_many(
        session,
        {("customer", "personal"): ids, ("product", "cross_sell"): seeds, ("shop", "popular"): [0]},
    )
    personal, related = lists[("customer", "personal")], lists[("product", "cross_sell")]
    shop = lists[("shop", "popular")]
    pool = [int(p) for p, _ in shop[0]] if 0 in shop else serving.popular(session, None)
    cross = {
        cid: rules.merge([related[p] for p in last.get(cid, []) if p in related]) for cid in ids
    }
    mine = {cid: [int(p) for p, _ in personal.get(cid, [])] for cid in ids}
    every = {p for c in (*cross.values(), *mine.values()) for p in c} | set(pool)
    catalog = serving.Catalog(session, every)
    out = {}
    for cid in ids:
        had = bought.get(cid, set())
        picks = catalog.choose(mine[cid], bought=had, n=SHOWN)
        fallback = not picks
        if fallback:
            picks = catalog.choose(pool, bought=had, n=SHOWN)
        kind = "popular" if fallback else "personal"
        sells = catalog.choose(cross[cid], bought=had, n=SHOWN)
        out[cid] = {
            "recommendations": [_as_dict(catalog.view(p, kind)) for p in picks],
            "recommendations_fallback": fallback,
            "cross_sell": [_as_dict(catalog.view(p, "cross_sell")) for p in sells],
        }
    return out


def sample_context() -> dict:
    """The same names for a made-up customer."""
    item = {
        "sku": "SAMPLE-1",
        "name": "Sample product",
        "category": "Sample",
        "price_cents": 1999,
        "price": "19.99",
        "currency": "USD",
        "url": "https://shop.example/products/SAMPLE-1?patron_rec=personal",
    }
    return {"recommendations": [item], "recommendations_fallback": False, "cross_sell": [item]}


message_context.sample = sample_context
