"""Reviews: one request per product after the delay, the signed form, moderation, shop API."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth
from patron.customers import service as customers
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.events.tables import LoggedEvent
from patron.reviews import links, rules, service
from patron.reviews.manifest import manifest
from patron.reviews.tables import ReviewRequest
from tests import factories

SECRET = "test-secret-key"
NOW = factories.T0


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("PATRON_SECRET_KEY", SECRET)
    monkeypatch.setenv("PATRON_REVIEWS_REQUEST_DELAY_DAYS", "7")


def test_jsonld_is_escaped_for_a_script_element():
    snippet = rules.aggregate_jsonld(
        sku="S1", name='</script><img src=x onerror=alert(1)> & "q"', count=3, average_rating=4.3
    )
    inner = snippet.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "<" not in inner and ">" not in inner and "&" not in inner
    data = json.loads(inner)
    assert data["name"].startswith("</script>") and data["aggregateRating"]["ratingValue"] == 4.3
    assert data["aggregateRating"]["reviewCount"] == 3 and data["@type"] == "Product"


def _buy(s, order: str, skus, days: float):
    lines = [{"sku": k, "unit_price_cents": 500, "name": f"Product {k}"} for k in skus]
    factories.order(s, order, "c1", days=days, total=500 * len(skus), lines=lines)


def test_requests_once_per_product_after_the_delay_then_moderated_reviews(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as s:
        c = factories.customer(s, "c1", email="c1@example.com", first_name="Ann", last_name="Lee")
        customers.set_consent(
            session=s, customer=c, channel="email", status="granted", source="test", now=NOW
        )
        for sku in ("A", "B", "C"):
            customers.upsert_product(
                session=s,
                sku=sku,
                name=f"Product <{sku}>",
                category=None,
                price_cents=500,
                currency="USD",
                now=NOW,
            )
        _buy(s, "o1", ["A", "B"], 0)
        _buy(s, "o2", ["A"], 1)  # A again: no second request
        _buy(s, "o3", ["C"], 1)
        customers.cancel_order(session=s, external_id="o3", now=NOW)  # C's request dropped
        key = auth.create_key(session=s, name="t", scopes="read,write,admin", now=NOW)[1]
    consumers = {c.name: c for c in manifest.consumers}
    events.pump(db.sessions, consumers, now=NOW)
    with transaction(db.sessions) as s:
        rows = s.scalars(select(ReviewRequest).order_by(ReviewRequest.sku)).all()
        assert [(r.sku, r.state, r.due_at) for r in rows] == [
            ("A", "queued", NOW + timedelta(days=7)),
            ("B", "queued", NOW + timedelta(days=7)),
        ]
        assert service.send_due(session=s, now=NOW + timedelta(days=6)) == "nothing due"
        assert service.send_due(session=s, now=NOW + timedelta(days=7)) == "requested 2"
        assert service.send_due(session=s, now=NOW + timedelta(days=8)) == "nothing due"
        requested = s.scalars(
            select(LoggedEvent.data).where(LoggedEvent.type == "review.requested")
        ).all()
        assert sorted(d["sku"] for d in requested) == ["A", "B"]
        customer_id = c.id
        asked = service.review_links(
            session=s, customer_id=c.id, secret=SECRET, public_url="", now=utcnow()
        )
        assert [x["name"] for x in asked] == ["Product <A>", "Product <B>"]
        assert links.read(SECRET, asked[1]["url"].removeprefix("/r/"), now=utcnow()) == (c.id, "B")

    http = TestClient(create_app(db.settings(), engine=db.engine))
    token = links.token(SECRET, customer_id=customer_id, sku="A", now=utcnow())
    assert http.get(f"/r/{factories.tampered(token)}").status_code == 400
    assert http.post(f"/r/{factories.tampered(token)}", data={"rating": "5"}).status_code == 400
    assert http.post(f"/r/{token}", data={"rating": "9"}).status_code == 422
    saved = http.post(f"/r/{token}", data={"rating": "4", "title": "Good", "text": "Solid."})
    assert saved.status_code == 200, saved.text
    assert saved.status_code == 200 and 'data-testid="review-thanks"' in saved.text
    headers = {"Authorization": f"Bearer {key}"}
    api = http.post(
        "/api/reviews",
        headers=headers,
        json={"customer": "c1", "sku": "C", "rating": 2, "title": "Meh"},
    )
    assert api.status_code == 201 and api.json()["verified"] is False  # never bought C
    queue = http.get("/api/reviews/queue", headers=headers).json()["reviews"]
    assert [(r["sku"], r["verified"], r["author"]) for r in queue] == [
        ("A", True, "Ann L."),
        ("C", False, "Ann L."),
    ]
    for r, action in zip(queue, ("approve", "reject"), strict=True):
        decided = http.post(
            f"/api/reviews/{r['id']}/decision", headers=headers, json={"action": action}
        )
        assert decided.status_code == 200, decided.text
    http.post(
        f"/api/reviews/{queue[0]['id']}/decision", headers=headers, json={"action": "approve"}
    )
    assert (
        http.post(
            f"/api/reviews/{queue[0]['id']}/decision", headers=headers, json={"action": "maybe"}
        ).status_code
        == 422
    )
    product = http.get("/api/reviews/products/A", headers=headers).json()
    assert (product["count"], product["average"]) == (1, 4.0)
    assert product["reviews"][0]["title"] == "Good"
    assert http.get("/api/reviews/products/C", headers=headers).json()["count"] == 0
    snippet = http.get("/api/reviews/products/A/jsonld", headers=headers).text
    assert '"reviewCount":1' in snippet and "Product \\u003cA\\u003e" in snippet
    with transaction(db.sessions) as s:
        types = s.scalars(select(LoggedEvent.type).where(LoggedEvent.type.like("review.%")))
        counts = {t: 0 for t in ("review.requested", "review.submitted", "review.approved")}
        for t in types:
            counts[t] += 1
    assert counts == {"review.requested": 2, "review.submitted": 2, "review.approved": 1}
    assert re.search(r"review", saved.text)
