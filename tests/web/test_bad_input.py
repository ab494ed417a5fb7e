"""Bad input answers a 4xx with a message on both databases, never a 500 (issue 8)."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.web import pagination

BIG_INT4 = 2**31
BIG_INT8 = 2**63
OVERFLOW = "9999-12-31T23:59:59-23:59"
RULES = {"type": "purchase", "field": "order_count", "op": "gte", "value": 1}


@pytest.fixture
def api(db) -> TestClient:
    """A client of the app holding an admin key; server errors answer as responses."""
    with transaction(db.sessions) as session:
        key = auth_service.create_key(session=session, name="t", scopes="admin", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def _refused(response, statuses=(400, 404, 422)) -> dict:
    """Assert a refusal in Patron's error body; return the body."""
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert body["error"] and body["message"], body
    return body


def _raw(api, method: str, url: str, text: str):
    """Send a JSON body given as raw text (for escapes Python's json would not write)."""
    headers = {"content-type": "application/json"}
    return api.request(method, url, content=text.encode(), headers=headers)


def _cursor(key, id_) -> str:
    """A cursor as pagination writes them, with any key and id."""
    raw = json.dumps([key, id_]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("big", [BIG_INT4, BIG_INT8])
@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/segments/{}"),
        ("PATCH", "/api/segments/{}"),
        ("GET", "/api/segments/{}/members"),
        ("DELETE", "/api/keys/{}"),
        ("GET", "/api/customers/{}"),
        ("GET", "/api/orders/{}"),
        ("GET", "/api/webhooks/endpoints/{}"),
        ("GET", "/api/webhooks/deliveries/{}"),
    ],
)
def test_ids_out_of_range_are_refused_or_not_found(api, method, path, big):
    body = {"name": "x"} if method == "PATCH" else None
    _refused(api.request(method, path.format(big), json=body))


@pytest.mark.parametrize("big", [BIG_INT4, BIG_INT8])
@pytest.mark.parametrize(
    "url",
    [
        "/api/customers",
        "/api/products",
        "/api/orders",
        "/api/segments/{seg}/members",
        "/api/segments/{seg}/changes",
        "/api/webhooks/deliveries",
    ],
)
def test_cursors_and_filters_with_ids_out_of_range(api, url, big):
    seg = api.post("/api/segments", json={"name": "s", "rules": RULES})
    url = url.format(seg=seg.json()["id"])
    for cursor in (_cursor(big, big), pagination.encode(big, big)):
        answer = api.get(url, params={"cursor": cursor})
        assert answer.status_code in (200, 422), answer.text
    assert api.get("/api/orders", params={"customer_id": big}).status_code in (200, 422)
    assert api.get("/api/webhooks/deliveries", params={"endpoint_id": big}).status_code in (
        404,
        200,
        422,
    )


NUL = "a\u0000b"


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("POST", "/api/customers", {"external_id": NUL}),
        ("POST", "/api/customers", {"external_id": "c", "first_name": NUL}),
        ("POST", "/api/customers", {"external_id": "c", "attributes": {"k": NUL}}),
        ("POST", "/api/customers", {"external_id": "c", "attributes": {NUL: 1}}),
        ("PUT", "/api/products/sku1", {"name": NUL, "price_cents": 1}),
        ("PUT", "/api/products/a%00b", {"name": "n", "price_cents": 1}),
        ("GET", "/api/products/a%00b", None),
        ("GET", "/api/customers?q=%00", None),
        ("GET", "/api/products?category=%00", None),
        ("POST", "/api/keys", {"name": NUL, "scopes": "read"}),
        ("POST", "/api/segments", {"name": NUL, "rules": {"type": "and", "children": []}}),
        (
            "POST",
            "/api/segments/count",
            {"rules": {"type": "attribute", "key": "k", "op": "eq", "value": NUL}},
        ),
        (
            "POST",
            "/api/orders",
            {
                "external_id": NUL,
                "customer_external_id": "c",
                "placed_at": "2025-01-01T00:00:00Z",
                "total_cents": 1,
            },
        ),
        ("POST", "/api/orders/a%00b/refund", {"amount_cents": 1}),
    ],
)
def test_nul_characters_are_refused(api, method, url, body):
    _refused(api.request(method, url, json=body))


SURROGATE = '"a\\ud800b"'


@pytest.mark.parametrize(
    "method,url,text",
    [
        ("POST", "/api/customers", '{"external_id": "c", "attributes": {"k": %s}}'),
        ("POST", "/api/customers", '{"external_id": %s}'),
        ("POST", "/api/customers", '{"external_id": "c", "attributes": {%s: 1}}'),
        (
            "POST",
            "/api/segments/count",
            '{"rules": {"type": "attribute", "key": "k", "op": "eq", "value": %s}}',
        ),
        (
            "POST",
            "/api/segments",
            '{"name": "s", "rules": {"type": "attribute", "key": %s, "op": "eq", "value": 1}}',
        ),
        ("POST", "/v1/identify", '{"userId": "u1", "traits": {"k": %s}}'),
        ("POST", "/v1/track", '{"userId": %s, "event": "e"}'),
    ],
)
def test_lone_surrogates_are_refused(api, method, url, text):
    _refused(_raw(api, method, url, text % SURROGATE))


def test_a_surrogate_pair_is_a_character_and_kept(api):
    text = '{"external_id": "c", "attributes": {"k": "\\ud83d\\ude00"}}'
    created = _raw(api, "POST", "/api/customers", text)
    assert created.status_code == 201, created.text
    assert created.json()["attributes"] == {"k": "\U0001f600"}


@pytest.mark.parametrize(
    "url,body",
    [
        ("/v1/track", {"userId": "u", "event": "e", "timestamp": OVERFLOW}),
        ("/v1/track", {"userId": "u", "event": "e", "sentAt": OVERFLOW}),
        (
            "/v1/batch",
            {"batch": [{"type": "track", "userId": "u", "event": "e"}], "sentAt": OVERFLOW},
        ),
        (
            "/api/orders",
            {
                "external_id": "o1",
                "customer_external_id": "c",
                "placed_at": OVERFLOW,
                "total_cents": 1,
            },
        ),
        (
            "/api/segments/count",
            {"rules": {"type": "profile", "field": "created_at", "op": "after", "value": OVERFLOW}},
        ),
        (
            "/api/segments/count",
            {
                "rules": {
                    "type": "purchase",
                    "field": "last_order_at",
                    "op": "before",
                    "value": OVERFLOW,
                }
            },
        ),
    ],
)
def test_date_overflow_is_refused(api, url, body):
    api.post("/api/customers", json={"external_id": "c"})
    _refused(api.post(url, json=body))


def test_changes_since_an_overflowing_date_is_refused(api):
    seg = api.post("/api/segments", json={"name": "s", "rules": RULES})
    _refused(api.get(f"/api/segments/{seg.json()['id']}/changes", params={"since": OVERFLOW}))


@pytest.mark.parametrize(
    "props",
    [
        {"order_id": "o1", "total": 1e308},
        {"order_id": "o1", "products": [{"sku": "s", "price": 1, "quantity": 1e20}]},
        {"order_id": "o1", "products": [{"sku": "s", "price": 1e300, "quantity": 1}]},
        {"order_id": "o1", "total": 1, "discount": 1e308},
    ],
)
def test_order_completed_with_huge_amounts_is_refused(api, props):
    body = {"userId": "u", "event": "Order Completed", "properties": props}
    _refused(api.post("/v1/track", json=body))


@pytest.mark.parametrize(
    "condition",
    [
        {"type": "purchase", "field": "order_count", "op": "gte"},
        {"type": "purchase", "field": "order_count", "op": "gte", "value": None},
        {"type": "purchase", "field": "last_order_at", "op": "within_days"},
        {"type": "purchase", "field": "total_spent_cents", "op": "lt", "value": ""},
        {"type": "score", "field": "churn_risk", "op": "gt"},
    ],
)
@pytest.mark.parametrize("route", ["count", "preview"])
def test_a_condition_without_its_value_is_refused(api, route, condition):
    body = _refused(api.post(f"/api/segments/{route}", json={"rules": condition}), (422,))
    assert "value" in body["message"]


def test_many_event_conditions_are_counted(api):
    children = [{"type": "event", "name": f"e{i}", "op": "at_least", "count": 1} for i in range(70)]
    answer = api.post("/api/segments/count", json={"rules": {"type": "or", "children": children}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 0


def test_a_chain_of_segments_is_not_a_cycle(api):
    rules = RULES
    last = api.post("/api/segments", json={"name": "s0", "rules": rules}).json()["id"]
    for i in range(1, 12):
        answer = api.post(
            "/api/segments",
            json={"name": f"s{i}", "rules": {"type": "segment", "segment_id": last}},
        )
        assert answer.status_code == 201, answer.text
        last = answer.json()["id"]
    assert (
        api.post(
            "/api/segments/count", json={"rules": {"type": "segment", "segment_id": last}}
        ).status_code
        == 200
    )


def test_a_real_cycle_is_still_refused(api):
    rules = RULES
    first = api.post("/api/segments", json={"name": "a", "rules": rules}).json()["id"]
    second = api.post(
        "/api/segments", json={"name": "b", "rules": {"type": "segment", "segment_id": first}}
    ).json()["id"]
    answer = api.patch(
        f"/api/segments/{first}", json={"rules": {"type": "segment", "segment_id": second}}
    )
    body = _refused(answer, (422,))
    assert "cycle" in body["message"] or "itself" in body["message"]


ERROR_REF = "#/components/schemas/ErrorBody"


def test_every_api_operation_documents_the_error_body(api):
    spec = api.get("/openapi.json").json()
    error = spec["components"]["schemas"]["ErrorBody"]
    assert {"error", "message", "details"} <= set(error["properties"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "409", "422"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": ERROR_REF}, (path, method)


def test_a_body_that_is_not_json_answers_the_error_body(api):
    answer = _raw(api, "POST", "/api/customers", "{not json")
    _refused(answer, (400, 422))
