"""The shop API, the template context, the journey step and the click report (SQLite)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service as customers
from patron.customers.rules import LineInput, OrderInput
from patron.db import transaction
from patron.journeys import engine, playbooks
from patron.journeys import service as journeys
from patron.manifest import installed
from patron.messages import links, tracking
from patron.messages import service as messages
from patron.recommendations import service
from patron.recommendations.tables import RecClick, RecImpression
from tests.events.test_service import pump_until_caught_up
from tests.recommendations.shop import NOW, load, planted


@pytest.fixture
def shop(sqlite_db):
    """A trained planted shop and API keys."""
    with transaction(sqlite_db.sessions) as s:
        ids = load(s, planted(customers=120, lines=700))
        keys = {
            scope: auth_service.create_key(session=s, name=scope, scopes=scope, now=NOW)[1]
            for scope in ("read", "write")
        }
    assert service.train(sessions=sqlite_db.sessions, now=NOW).state == "ready"
    client = TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine))
    headers = {k: {"Authorization": f"Bearer {v}"} for k, v in keys.items()}
    return sqlite_db, ids, client, headers


def test_serving_endpoints_and_their_errors(shop):
    _db, ids, client, h = shop
    cid = ids["customers"]["c3"]
    got = client.get(f"/api/customers/{cid}/recommendations?kind=cross_sell&n=4", headers=h["read"])
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["kind"] == "cross_sell" and not body["fallback"] and len(body["items"]) == 4
    assert body["items"][0]["url"].endswith("patron_rec=cross_sell")
    related = client.get("/api/products/P004/related?kind=up_sell", headers=h["read"]).json()
    assert related["items"] and related["kind"] == "up_sell"
    assert client.get("/api/customers/999999/recommendations", headers=h["read"]).status_code == 404
    assert client.get("/api/products/NOPE/related", headers=h["read"]).status_code == 404
    bad = client.get(f"/api/customers/{cid}/recommendations?kind=x", headers=h["read"])
    assert bad.status_code == 422 and "kind" in bad.text
    assert (
        client.get(f"/api/customers/{cid}/recommendations?n=0", headers=h["read"]).status_code
        == 422
    )
    sku = body["items"][0]["sku"]
    put = f"/api/products/{sku}/recommendation-flags"
    assert client.put(put, json={"active": False}, headers=h["read"]).status_code == 403
    assert client.put(put, json={"active": False}, headers=h["write"]).json()["active"] is False
    after = client.get(f"/api/customers/{cid}/recommendations?kind=cross_sell", headers=h["read"])
    assert sku not in [i["sku"] for i in after.json()["items"]]
    versions = client.get("/api/recommendations/versions", headers=h["read"]).json()
    assert versions[0]["state"] == "ready"
    assert client.get("/api/recommendations/evaluation", headers=h["read"]).status_code == 404


def _order(s, external: str, customer: str, sku: str, when) -> None:
    line = LineInput(sku=sku, quantity=2, unit_price_cents=1500)
    data = OrderInput(
        external_id=external,
        customer_external_id=customer,
        placed_at=when,
        total_cents=3000,
        status="paid",
        lines=(line,),
    )
    customers.record_order(session=s, order=data, now=when)


def test_journey_step_email_click_and_attributed_revenue(shop):
    db, ids, _client, _h = shop
    cid = ids["customers"]["c7"]
    body = (
        '<p>Goes with your order:</p>{% for p in cross_sell %}<a href="{{ p.url }}">'
        "{{ p.name }}</a>{% endfor %}{% for p in recommendations %}{{ p.sku }}{% endfor %}"
    )
    with transaction(db.sessions) as s:
        template = messages.create_template(
            session=s,
            now=NOW,
            data=messages.TemplateInput(
                name="Cross-sell", variants=[messages.VariantInput(body=body, subject="For you")]
            ),
        )
        definition = {
            "trigger": {"type": "api"},
            "steps": [{"id": "x", "type": "recommend", "template_id": template.id}],
        }
        j = journeys.create_journey(session=s, name="post", definition=definition, now=NOW)
        journeys.resume(session=s, journey_id=j.id, now=NOW)
        journeys.enrol(session=s, journey_id=j.id, customer_id=cid, now=NOW)
    engine.run_due(db.sessions, now=NOW)
    with transaction(db.sessions) as s:
        shown = s.scalars(select(RecImpression)).one()
        assert shown.customer_id == cid and shown.kind == "cross_sell" and shown.products
        outbox = messages.messages_of(session=s, customer_id=cid, after_id=None, limit=1)[0]
        html = messages.render_for(session=s, template_id=template.id, customer_id=cid).html
    sku = shown.products[0]
    assert f"/products/{sku}?patron_rec=cross_sell" in html
    click_at = NOW + timedelta(hours=2)
    token = links.click_url(
        "https://p.example",
        "test-secret-key",
        outbox_id=outbox.id,
        url=f"https://shop.example/products/{sku}?patron_rec=cross_sell",
    )
    with transaction(db.sessions) as s:
        tracking.click(
            s,
            secret="test-secret-key",
            token=token.rsplit("/", 1)[1],
            user_agent="Mozilla/5.0",
            now=click_at,
        )
    pump_until_caught_up(db, installed().consumers(), now=click_at)
    with transaction(db.sessions) as s:
        click = s.scalars(select(RecClick)).one()
        assert (click.customer_id, click.kind) == (cid, "cross_sell")
        _order(s, "after-click", "c7", sku, click_at + timedelta(days=2))
        _order(s, "too-late", "c7", sku, click_at + timedelta(days=30))
    pump_until_caught_up(db, installed().consumers(), now=click_at)
    with transaction(db.sessions) as s:
        (row,) = service.report(session=s)
    assert (row.kind, row.shown, row.clicks, row.orders, row.revenue_cents) == (
        "cross_sell",
        1,
        1,
        1,
        3000,
    )
    assert row.click_through == 1.0


def test_template_context_is_batched_with_fallback(shop):
    db, ids, _client, _h = shop
    with transaction(db.sessions) as s:
        new = customers.upsert_customer(session=s, external_id="fresh", profile={}, now=NOW)
        from patron.recommendations.context import message_context

        got = message_context(session=s, customer_ids=[ids["customers"]["c1"], new.id])
    assert got[new.id]["recommendations_fallback"] is True and got[new.id]["recommendations"]
    assert got[new.id]["cross_sell"] == []
    mine = got[ids["customers"]["c1"]]
    assert not mine["recommendations_fallback"]
    assert all("patron_rec=personal" in p["url"] for p in mine["recommendations"])


def test_the_post_purchase_playbook_email_shows_the_cross_sell(shop):
    db, ids, _client, _h = shop
    with transaction(db.sessions) as s:
        variant = messages.VariantInput(subject="You might also like", body=playbooks.CROSS_SELL)
        template = messages.create_template(
            session=s, data=messages.TemplateInput(name="pp", variants=[variant]), now=NOW
        )
        html = messages.render_for(
            session=s, template_id=template.id, customer_id=ids["customers"]["c4"]
        ).html
    assert html.count("patron_rec=cross_sell") >= 3
