"""Pure generator of the demo shop's browsing: page and product views, some anonymous."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from patron.demo.names import CATEGORIES, PAGES


def _session_events(
    rng: np.random.Generator, at: datetime, products: list[dict], favourite: int
) -> list[tuple[datetime, str, str, dict]]:
    """One browsing session: a page view, some product views, maybe an add to cart."""
    category = list(CATEGORIES)[favourite]
    items = [p for p in products if p["category"] == category]
    page = PAGES[rng.integers(len(PAGES))]
    events = [(at, "page", page, {"path": "/" if page == "Home" else f"/{page.lower()}"})]
    for _ in range(1 + int(rng.poisson(1.2))):
        at += timedelta(seconds=float(rng.uniform(10, 150)))
        product = items[rng.integers(len(items))]
        props = {
            "product_id": product["sku"],
            "name": product["name"],
            "category": category,
            "price": product["price_cents"] / 100,
        }
        events.append((at, "track", "Product Viewed", props))
        if rng.random() < 0.25:
            at += timedelta(seconds=float(rng.uniform(5, 60)))
            events.append((at, "track", "Added to Cart", {**props, "quantity": 1}))
    return events


def make_events(
    rng: np.random.Generator,
    histories: list,
    products: list[dict],
    start: datetime,
    customers: int,
    *,
    history_days: int,
    prefix: str,
) -> tuple[list[dict], list[dict]]:
    """Recent browsing of live buyers, some first seen anonymously and linked later."""
    events: list[dict] = []
    links: list[dict] = []
    recent = history_days - 45
    for h in histories:
        for _ in range(int(rng.poisson(1.0 if h.alive else 0.08))):
            at = start + timedelta(days=float(rng.uniform(recent, history_days - 0.05)))
            anonymous = f"anon-{h.customer:06d}-{len(links)}" if rng.random() < 0.2 else None
            session = _session_events(rng, at, products, h.favourite)
            for moment, type_, name, props in session:
                events.append(
                    {
                        "customer": h.customer,
                        "anonymous_id": anonymous,
                        "type": type_,
                        "name": name,
                        "properties": props,
                        "occurred_at": moment,
                    }
                )
            if anonymous:
                links.append(
                    {
                        "anonymous_id": anonymous,
                        "customer": h.customer,
                        "linked_at": session[-1][0] + timedelta(seconds=30),
                    }
                )
    for k in range(customers // 20):  # visitors never identified
        at = start + timedelta(days=float(rng.uniform(recent, history_days - 0.05)))
        for moment, type_, name, props in _session_events(
            rng, at, products, int(rng.integers(len(CATEGORIES)))
        ):
            events.append(
                {
                    "customer": None,
                    "anonymous_id": f"anon-visitor-{k:05d}",
                    "type": type_,
                    "name": name,
                    "properties": props,
                    "occurred_at": moment,
                }
            )
    events.sort(key=lambda e: e["occurred_at"])
    for number, event in enumerate(events, start=1):
        event["message_id"] = f"{prefix}{number:07d}"
    return events, links
