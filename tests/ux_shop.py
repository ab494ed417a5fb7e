"""A small scored shop for page tests of the analyst and marketer pages (issue 8, UX)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import insert

from patron.analytics.tables import CustomerScore
from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service as customers_service
from patron.db import transaction
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login

# external id: (orders in cents, scores R, F, M, RFM segment, stage, churn risk, CLV percentile)
SHOP = {
    "c1": ((1000,), (5, 1, 1, "New", "new", 0.1, 95.0)),
    "c2": ((3000, 3000, 3000), (3, 4, 3, "Loyal", "former", 0.999, 50.0)),
    "c3": ((2500, 2500), (3, 3, 4, "Loyal", "loyal", 0.3, 15.0)),
    "c4": ((2500,), (1, 1, 2, "Lost", "former", 0.8, 5.0)),
    "c5": ((6000, 6000), (4, 5, 5, "Champions", "loyal", 0.05, 99.0)),
}
NAMES = {"c0": "Zoe Adams", "c1": "Ann Young", "c2": "Bob Brown", "c3": "Cy Xu", "c4": "Di Ode"}


def build_shop(sessions) -> dict[str, int]:
    """c0 (no orders, email granted) and c1..c5 with orders and scores; ids by external id."""
    ids = {}
    with transaction(sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for n in range(6):
            ext = f"c{n}"
            first, _, last = NAMES.get(ext, "Eve Stone").partition(" ")
            row = factories.customer(
                s, ext, email=f"{ext}@example.com", first_name=first, last_name=last
            )
            ids[ext] = row.id
            if ext == "c0":
                customers_service.set_consent(
                    session=s,
                    customer=row,
                    channel="email",
                    status="granted",
                    source="t",
                    now=factories.T0,
                )
            for i, total in enumerate(SHOP.get(ext, ((),))[0]):
                factories.order(s, f"o-{ext}-{i}", ext, days=n * 10 + i, total=total)
        s.execute(
            insert(CustomerScore),
            [
                {
                    "customer_id": ids[ext],
                    "computed_at": factories.T0,
                    "recency_score": r,
                    "frequency_score": f,
                    "monetary_score": m,
                    "rfm_segment": segment,
                    "lifecycle_stage": stage,
                    "p_alive": round(1 - churn, 6),
                    "churn_risk": churn,
                    "predicted_clv_cents": int(pct * 100),
                    "clv_percentile": pct,
                }
                for ext, (_orders, (r, f, m, segment, stage, churn, pct)) in SHOP.items()
            ],
        )
    return ids


def shop_client(db) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """A logged-in client on the scored shop (built-in segments computed at start-up)."""
    ids = build_shop(db.sessions)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        yield client, ids
