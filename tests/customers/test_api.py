"""REST API of customers, products and orders: behaviour and bad input, on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers.tables import Customer, Order
from patron.db import transaction, utcnow


def _key(db, scopes: str) -> str:
    """Create an API key with scopes and return it."""
    with transaction(db.sessions) as session:
        return auth_service.create_key(session=session, name="t", scopes=scopes, now=utcnow())[1]


@pytest.fixture
def api(db) -> TestClient:
    """A client of the app holding a read+write key."""
    client = TestClient(create_app(db.settings(), engine=db.engine))
    client.headers["Authorization"] = f"Bearer {_key(db, 'write')}"
    return client


def _count(db, model) -> int:
    """Rows of a table."""
    with transaction(db.sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def _order(external_id: str, customer: str = "c1", **fields) -> dict:
    """An order body."""
    body = {
        "external_id": external_id,
        "customer_external_id": customer,
        "placed_at": "2025-03-01T10:00:00+01:00",
        "total_cents": 2500,
    }
    return {**body, **fields}


def test_create_get_and_update_a_customer(api):
    created = api.post(
        "/api/customers",
        json={
            "external_id": "c1",
            "email": "Ada@Example.com",
            "first_name": "Ada",
            "birthday": "1990-12-10",
            "attributes": {"plan": "pro"},
            "consent": {"email": {"status": "granted", "source": "signup_form"}},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == "ada@example.com"
    assert body["consent"]["email"]["status"] == "granted"
    assert body["consent"]["email"]["source"] == "signup_form"
    assert body["consent"]["email"]["updated_at"].endswith(("Z", "+00:00"))
    assert body["stats"]["order_count"] == 0
    patched = api.patch(
        f"/api/customers/{body['id']}",
        json={
            "last_name": "Lovelace",
            "attributes": {"vip": True},
            "consent": {"email": {"status": "unsubscribed"}},
        },
    )
    assert patched.status_code == 200, patched.text
    got = api.get(f"/api/customers/{body['id']}").json()
    assert (got["first_name"], got["last_name"]) == ("Ada", "Lovelace")
    assert got["attributes"] == {"plan": "pro", "vip": True}
    assert got["consent"]["email"]["status"] == "unsubscribed"
    assert got["consent"]["email"]["source"] == "api"


def test_duplicate_external_id_is_a_conflict(api, db):
    assert api.post("/api/customers", json={"external_id": "c1"}).status_code == 201
    answer = api.post("/api/customers", json={"external_id": "c1", "email": "x@y.io"})
    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict" and "c1" in answer.json()["message"]
    assert _count(db, Customer) == 1


def test_bad_update_changes_nothing(api):
    cid = api.post("/api/customers", json={"external_id": "c1", "first_name": "Ada"}).json()["id"]
    answer = api.patch(f"/api/customers/{cid}", json={"first_name": "Bob", "email": "nope"})
    assert answer.status_code == 422 and "email" in answer.json()["message"]
    assert api.get(f"/api/customers/{cid}").json()["first_name"] == "Ada"
    assert api.patch("/api/customers/999999", json={"first_name": "X"}).status_code == 404


def test_search_is_case_insensitive_and_literal(api):
    people = [
        ("a-1", "ada@lovelace.org", "Ada", "Lovelace"),
        ("b-2", "grace@navy.mil", "Grace", "Hopper"),
        ("ADA-3", "x_y@z.com", "Alan", "Turing"),
    ]
    for ext, email, first, last in people:
        api.post(
            "/api/customers",
            json={"external_id": ext, "email": email, "first_name": first, "last_name": last},
        )

    def found(q: str) -> set[str]:
        answer = api.get("/api/customers", params={"q": q})
        assert answer.status_code == 200
        return {c["external_id"] for c in answer.json()["items"]}

    assert found("ADA") == {"a-1", "ADA-3"}
    assert found("grace hop") == {"b-2"}
    assert found("NAVY.MIL") == {"b-2"}
    assert found("x_y") == {"ADA-3"}
    assert found("_") == {"ADA-3"}
    assert found("%") == set()


def test_cursor_pagination_walks_every_customer_once(api):
    ids = [api.post("/api/customers", json={"external_id": f"c{i}"}).json()["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/customers", params=params).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids) and pages == 3
    assert api.get("/api/customers", params={"cursor": "not-a-cursor!"}).status_code == 422
    for limit in (0, 501):
        assert api.get("/api/customers", params={"limit": limit}).status_code == 422


def test_filters_by_consent_and_orders(api):
    api.post(
        "/api/customers", json={"external_id": "c1", "consent": {"email": {"status": "granted"}}}
    )
    api.post(
        "/api/customers", json={"external_id": "c2", "consent": {"email": {"status": "denied"}}}
    )
    api.post("/api/customers", json={"external_id": "c3"})
    api.post("/api/orders", json=_order("o1", "c2"))
    api.post("/api/orders", json=_order("o2", "c2", placed_at="2025-03-02T10:00:00Z"))

    def found(**params) -> list[str]:
        return [c["external_id"] for c in api.get("/api/customers", params=params).json()["items"]]

    assert found(email_consent="granted") == ["c1"]
    assert found(email_consent="unknown") == ["c3"]
    assert found(min_orders=2) == ["c2"]
    assert api.get("/api/customers", params={"email_consent": "maybe"}).status_code == 422


def test_delete_removes_customer_and_orders(api, db):
    cid = api.post("/api/customers", json={"external_id": "c1"}).json()["id"]
    assert api.post("/api/orders", json=_order("o1")).status_code == 201
    answer = api.delete(f"/api/customers/{cid}")
    assert answer.status_code == 204 and answer.content == b""
    assert api.get(f"/api/customers/{cid}").status_code == 404
    assert _count(db, Order) == 0
    assert api.delete(f"/api/customers/{cid}").status_code == 404


def test_products_upsert_get_and_list(api):
    first = api.put("/api/products/SKU-1", json={"name": "Mug", "price_cents": 1200})
    assert first.status_code == 200, first.text
    again = api.put(
        "/api/products/SKU-1",
        json={"name": "Big mug", "price_cents": 1500, "category": "kitchen", "currency": "eur"},
    )
    assert again.json()["id"] == first.json()["id"]
    got = api.get("/api/products/SKU-1").json()
    assert (got["name"], got["price_cents"], got["currency"]) == ("Big mug", 1500, "EUR")
    for i in range(3):
        api.put(
            f"/api/products/S{i}",
            json={"name": f"P{i}", "price_cents": i, "category": "kitchen" if i else None},
        )
    page = api.get("/api/products", params={"limit": 2, "category": "kitchen"}).json()
    rest = api.get(
        "/api/products", params={"limit": 2, "category": "kitchen", "cursor": page["next_cursor"]}
    ).json()
    assert [p["sku"] for p in page["items"] + rest["items"]] == ["SKU-1", "S1", "S2"]
    assert rest["next_cursor"] is None
    assert api.get("/api/products/nope").status_code == 404
    assert api.put("/api/products/X", json={"name": "X", "price_cents": 9.99}).status_code == 422


def test_orders_flow_into_customer_aggregates(api):
    api.put("/api/products/MUG", json={"name": "Mug", "category": "kitchen", "price_cents": 1000})
    cid = api.post("/api/customers", json={"external_id": "c1"}).json()["id"]
    answer = api.post(
        "/api/orders",
        json=_order(
            "o1",
            total_cents=None,
            discount_cents=500,
            lines=[
                {"sku": "MUG", "quantity": 2, "unit_price_cents": 1000},
                {"sku": "UNKNOWN", "unit_price_cents": 250},
            ],
        ),
    )
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["total_cents"] == 2000 + 250 - 500
    assert order["placed_at"].startswith("2025-03-01T09:00:00")
    assert [(line["category"], line["total_cents"]) for line in order["lines"]] == [
        ("kitchen", 2000),
        (None, 250),
    ]
    assert api.get(f"/api/orders/{order['id']}").json()["lines"] == order["lines"]
    api.post("/api/orders", json=_order("o2", placed_at="2025-04-01T00:00:00Z", total_cents=1000))
    stats = api.get(f"/api/customers/{cid}").json()["stats"]
    assert (stats["order_count"], stats["total_spent_cents"]) == (2, 1750 + 1000)
    refund = api.post("/api/orders/o2/refund", json={"amount_cents": 400})
    assert refund.json()["status"] == "partially_refunded"
    assert api.post("/api/orders/o2/refund", json={"amount_cents": 601}).status_code == 422
    assert api.post("/api/orders/o2/refund").json()["status"] == "refunded"
    assert api.post("/api/orders/o1/cancel").json()["status"] == "cancelled"
    stats = api.get(f"/api/customers/{cid}").json()["stats"]
    assert (stats["order_count"], stats["total_spent_cents"]) == (0, 0)
    assert api.post("/api/orders/nope/cancel").status_code == 404
    assert api.post("/api/orders/nope/refund").status_code == 404


def test_order_references_and_duplicates(api, db):
    unknown = api.post("/api/orders", json=_order("o1", "ghost"))
    assert unknown.status_code == 422 and "ghost" in unknown.json()["message"]
    assert _count(db, Customer) == 0
    created = api.post("/api/orders", json=_order("o1", "ghost", create_customer=True))
    assert created.status_code == 201
    duplicate = api.post("/api/orders", json=_order("o1", "ghost", total_cents=1))
    assert duplicate.status_code == 409
    assert api.get(f"/api/orders/{created.json()['id']}").json()["total_cents"] == 2500
    assert api.get("/api/orders/424242").status_code == 404


def test_order_with_a_bad_line_leaves_nothing(api, db):
    answer = api.post(
        "/api/orders",
        json=_order(
            "o1",
            "new",
            create_customer=True,
            lines=[{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 0}],
        ),
    )
    assert answer.status_code == 422 and "lines.1.quantity" in answer.json()["message"]
    assert (_count(db, Customer), _count(db, Order)) == (0, 0)
    no_total = api.post(
        "/api/orders", json=_order("o1", "new", create_customer=True, total_cents=None)
    )
    assert no_total.status_code == 422 and "total_cents" in no_total.json()["message"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("total_cents", "abc"),
        ("total_cents", 19.99),
        ("total_cents", -1),
        ("placed_at", "yesterday"),
        ("status", "lost"),
        ("lines", {"sku": "A"}),
        ("currency", "dollars"),
        ("surprise", 1),
    ],
)
def test_wrong_types_are_refused(api, db, field, value):
    answer = api.post("/api/orders", json=_order("o1", create_customer=True, **{field: value}))
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input" and field in answer.json()["message"]
    assert _count(db, Order) == 0


def test_naive_timestamp_is_refused_with_a_clear_message(api):
    answer = api.post(
        "/api/orders", json=_order("o1", create_customer=True, placed_at="2025-03-01T10:00:00")
    )
    assert answer.status_code == 422
    assert "placed_at" in answer.json()["message"] and "timezone" in answer.json()["message"]


def test_list_orders_of_one_customer(api):
    for i in range(5):
        api.post("/api/orders", json=_order(f"o{i}", f"c{i % 2}", create_customer=True))
    c1 = api.get("/api/customers", params={"q": "c1"}).json()["items"][0]["id"]
    page = api.get("/api/orders", params={"customer_id": c1, "limit": 1}).json()
    rest = api.get("/api/orders", params={"customer_id": c1, "cursor": page["next_cursor"]})
    assert [o["external_id"] for o in page["items"] + rest.json()["items"]] == ["o1", "o3"]
    assert rest.json()["next_cursor"] is None


def test_malformed_json_and_oversized_bodies(api, db):
    broken = api.post(
        "/api/customers",
        content=b'{"external_id": "c1",',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["error"] == "invalid_input"
    huge = {"external_id": "c1", "attributes": {"blob": "x" * 1_100_000}}
    too_big = api.post("/api/customers", json=huge)
    assert too_big.status_code in (400, 413)
    assert too_big.json()["error"] == "payload_too_large"

    def chunks():
        yield b'{"external_id": "c1", "attributes": {"blob": "'
        for _ in range(12):
            yield b"x" * 100_000
        yield b'"}}'

    streamed = api.post(
        "/api/customers", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.json()["error"] == "payload_too_large"
    assert _count(db, Customer) == 0

    def small():
        yield b'{"external_id": '
        yield b'"c1"}'

    fine = api.post("/api/customers", content=small(), headers={"Content-Type": "application/json"})
    assert fine.status_code == 201, fine.text


def test_keys_and_scopes_are_enforced(api, db):
    client = api
    reader = _key(db, "read")
    revoked = _key(db, "write")
    with transaction(db.sessions) as session:
        key_id = max(k.id for k in auth_service.list_keys(session=session))
        auth_service.revoke_key(session=session, key_id=key_id, now=utcnow())
    body = {"external_id": "c1"}
    cases = [
        (None, 401),
        ("Bearer nonsense", 401),
        (f"Bearer {revoked}", 401),
        (f"Bearer {reader}", 403),
        (f"Bearer {reader[:-2]}xx", 401),
    ]
    for header, status in cases:
        headers = {"Authorization": header} if header else {}
        client.headers.pop("Authorization", None)
        answer = client.post("/api/customers", json=body, headers=headers)
        assert answer.status_code == status, (header, answer.text)
        assert answer.json()["error"] in ("unauthorized", "forbidden")
    assert (
        client.get("/api/customers", headers={"Authorization": f"Bearer {reader}"}).status_code
        == 200
    )
    assert _count(db, Customer) == 0


def test_every_api_route_is_documented(api):
    paths = api.app.openapi()["paths"]
    mine = ("/api/customers", "/api/products", "/api/orders", "/api/keys")
    routes = [
        (path, method, op)
        for path, ops in paths.items()
        if path.startswith(mine)
        for method, op in ops.items()
    ]
    assert len(routes) >= 16
    for path, method, op in routes:
        assert op.get("summary") and op.get("tags"), (path, method)
        success = next(code for code in op["responses"] if code.startswith("2"))
        assert success == "204" or "content" in op["responses"][success], (path, method)
