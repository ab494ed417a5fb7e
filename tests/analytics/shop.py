"""Test data for the analytics service: a shop's customers and orders, inserted in bulk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patron.customers import service as customers_service
from patron.customers.tables import Order
from tests.factories import T0, at


@dataclass(frozen=True)
class Sale:
    """One order of the test shop: customer, day offset from T0, cents, status, refunded."""

    customer: str
    day: float
    cents: int = 1000
    status: str = "paid"
    refunded: int = 0


def load_shop(session, sales: list[Sale], *, idle: tuple[str, ...] = ()) -> dict[str, int]:
    """Create the customers (plus idle ones without orders) and orders; return ids by name."""
    names = sorted({s.customer for s in sales} | set(idle))
    ids = {
        name: customers_service.upsert_customer(
            session=session, external_id=name, profile={}, now=T0
        ).id
        for name in names
    }
    session.add_all(
        [
            Order(
                external_id=f"o{i}",
                customer_id=ids[s.customer],
                placed_at=at(s.day),
                status=s.status,
                currency="USD",
                total_cents=s.cents,
                discount_cents=0,
                refunded_cents=s.refunded,
                source="test",
                created_at=T0,
                updated_at=T0,
            )
            for i, s in enumerate(sales)
        ]
    )
    session.flush()
    customers_service.rebuild_stats(session)
    return ids


def simulated_sales(n: int, *, seed: int = 3, horizon: float = 365.0) -> list[Sale]:
    """Sales of a BG/NBD-like customer base: Poisson buying until a dropout after a purchase."""
    rng = np.random.default_rng(seed)
    sales = []
    for c in range(n):
        day = float(rng.uniform(0, horizon * 0.6))
        rate, drop = rng.gamma(1.0, 1 / 20.0), rng.beta(1.0, 3.0)
        mean = rng.gamma(5.0, 800.0)
        while day < horizon:
            sales.append(Sale(f"s{c:04d}", round(day, 3), int(rng.gamma(5.0, mean / 5.0)) + 1))
            if rng.random() < drop:
                break
            day += rng.exponential(1 / rate)
    return sales
