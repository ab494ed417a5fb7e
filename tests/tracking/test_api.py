"""The /v1 tracking API through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import gzip
from datetime import timedelta

import orjson
import pytest

from patron.auth import service as auth_service
from patron.customers import activity
from patron.customers import service as customers
from patron.customers.tables import AnonymousId, Customer, CustomerStats, Event, Order
from patron.db import transaction, utcnow
from tests.tracking.conftest import make_key

CALLS = [
    ("identify", {"userId": "u1", "traits": {"email": "ada@example.com"}}, None),
    ("track", {"userId": "u1", "event": "Signed Up", "properties": {"plan": "pro"}}, "Signed Up"),
    ("page", {"anonymousId": "a1", "name": "Pricing"}, "Pricing"),
    ("screen", {"userId": "u1", "name": "Home"}, "Home"),
    ("group", {"userId": "u1", "groupId": "acme", "traits": {"size": 10}}, "acme"),
    ("alias", {"userId": "u1", "previousId": "a1"}, None),
]


@pytest.mark.parametrize(("path", "body", "name"), CALLS, ids=[c[0] for c in CALLS])
def test_each_call_type_is_stored_as_an_event(tracking, path, body, name):
    response = tracking.post(path, {**body, "messageId": f"m-{path}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    [event] = tracking.events(message_id=f"m-{path}")
    assert (event.type, event.name) == (path, name)
    assert event.occurred_at.tzinfo is not None and event.received_at.tzinfo is not None


def test_track_with_a_user_id_creates_the_customer_and_keeps_properties(tracking):
    tracking.post(
        "track",
        {
            "userId": "u9",
            "event": "Viewed",
            "properties": {"sku": "a"},
            "context": {"ip": "127.0.0.1"},
        },
    )
    [event] = tracking.events(name="Viewed")
    with transaction(tracking.db.sessions) as session:
        customer = customers.find_customer(session=session, external_id="u9")
        stats = session.get(CustomerStats, customer.id)
    assert event.customer_id == customer.id
    assert (event.properties, event.context) == ({"sku": "a"}, {"ip": "127.0.0.1"})
    assert stats.last_event_at == event.occurred_at


def test_write_key_in_the_body_and_as_bearer_also_authenticate(tracking):
    body = {"userId": "u", "event": "E", "writeKey": tracking.key}
    assert tracking.client.post("/v1/track", json=body).status_code == 200
    bearer = {"Authorization": f"Bearer {tracking.key}"}
    assert (
        tracking.client.post(
            "/v1/track", json={"userId": "u", "event": "F"}, headers=bearer
        ).status_code
        == 200
    )
    assert len(tracking.events(type="track")) == 2


@pytest.mark.parametrize("auth", [None, ("pat_000000000000_nope", ""), ("garbage", "")])
def test_missing_or_bad_keys_get_401(tracking, auth):
    response = tracking.client.post("/v1/track", json={"userId": "u", "event": "E"}, auth=auth)
    assert response.status_code == 401
    assert response.json()["message"]
    assert tracking.count(Event) == 0


def test_a_malformed_basic_header_gets_401(tracking):
    response = tracking.client.post(
        "/v1/track", json={"userId": "u", "event": "E"}, headers={"Authorization": "Basic !!!"}
    )
    assert response.status_code == 401


def test_a_revoked_key_gets_401_and_a_read_key_403(tracking):
    key = make_key(tracking.db)
    with transaction(tracking.db.sessions) as session:
        row = auth_service.list_keys(session=session)[0]
        auth_service.revoke_key(session=session, key_id=row.id, now=utcnow())
    assert tracking.post("track", {"userId": "u", "event": "E"}, auth=(key, "")).status_code == 401
    reader = make_key(tracking.db, "read")
    assert (
        tracking.post("track", {"userId": "u", "event": "E"}, auth=(reader, "")).status_code == 403
    )
    assert tracking.count(Event) == 0


def test_a_replayed_message_is_a_no_op(tracking):
    body = {"userId": "u", "event": "E", "messageId": "once"}
    assert tracking.post("track", body).status_code == 200
    assert tracking.post("track", {**body, "event": "Changed"}).status_code == 200
    batch = {"batch": [{**body, "type": "track"}, {**body, "type": "track", "messageId": "2"}]}
    assert tracking.post("batch", batch).status_code == 200
    assert [e.name for e in tracking.events()] == ["E", "E"]


def test_a_replayed_order_makes_no_second_order_nor_change(tracking):
    order = {
        "userId": "u",
        "event": "Order Completed",
        "messageId": "buy-1",
        "properties": {"order_id": "o1", "total": 20},
    }
    tracking.post("track", order)
    tracking.post("track", {**order, "properties": {"order_id": "o2", "total": 99}})
    tracking.post("batch", {"batch": [{**order, "type": "track"}]})
    with transaction(tracking.db.sessions) as session:
        orders = customers.list_orders(session=session)
    assert [(o.external_id, o.total_cents) for o in orders] == [("o1", 2000)]
    assert tracking.count(Event) == 1


def test_oversized_message_and_batch_get_400(tracking):
    huge = {"userId": "u", "event": "E", "properties": {"x": "a" * 33_000}}
    response = tracking.post("track", huge)
    assert response.status_code == 400
    assert "32 KB" in response.json()["message"]
    response = tracking.post("batch", {"batch": [{**huge, "type": "track"}]})
    assert response.status_code == 400
    assert "batch[0]: message is larger than the 32 KB limit" in response.json()["message"]
    many = [
        {"type": "track", "userId": "u", "event": "E", "properties": {"x": "a" * 20_000}}
        for _ in range(30)
    ]
    response = tracking.post("batch", {"batch": many})
    assert response.status_code == 400
    assert "500 KB" in response.json()["message"]
    assert tracking.count(Event) == 0


def test_malformed_json_and_wrong_types_get_400(tracking):
    response = tracking.client.post(
        "/v1/track", content=b'{"userId": "u", ', auth=(tracking.key, "")
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]
    response = tracking.post("track", {"userId": "u", "event": "E", "properties": "x"})
    assert (response.status_code, response.json()["error"]) == (400, "invalid_message")
    assert "properties must be an object" in response.json()["message"]
    response = tracking.post("identify", {"traits": {}})
    assert "either userId or anonymousId is required" in response.json()["message"]


def test_a_batch_with_one_bad_message_writes_nothing(tracking):
    batch = [
        {"type": "identify", "userId": "u1", "traits": {"email": "a@b.co"}},
        {
            "type": "track",
            "userId": "u1",
            "event": "Order Completed",
            "properties": {"order_id": "o1", "total": 5},
        },
        {"type": "track", "userId": "u2", "event": "E", "properties": []},
    ]
    response = tracking.post("batch", {"batch": batch})
    assert response.status_code == 400
    assert "batch[2].properties" in response.json()["message"]
    assert (tracking.count(Event), tracking.count(Customer), tracking.count(Order)) == (0, 0, 0)


def test_gzip_bodies_are_accepted_on_batch_and_import(tracking):
    body = {"batch": [{"type": "track", "userId": "u", "event": "Zipped"}]}
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    for path in ("batch", "import"):
        response = tracking.client.post(
            f"/v1/{path}",
            content=gzip.compress(orjson.dumps(body)),
            headers=headers,
            auth=(tracking.key, ""),
        )
        assert response.status_code == 200, response.text
    assert len(tracking.events(name="Zipped")) == 2


def test_sent_at_corrects_the_client_clock(tracking):
    client_now = utcnow() + timedelta(days=365)  # a device clock a year ahead
    tracking.post(
        "batch",
        {
            "sentAt": client_now.isoformat(),
            "batch": [
                {
                    "type": "track",
                    "userId": "u",
                    "event": "E",
                    "timestamp": (client_now - timedelta(minutes=5)).isoformat(),
                }
            ],
        },
    )
    [event] = tracking.events()
    assert abs(event.occurred_at - (event.received_at - timedelta(minutes=5))) < timedelta(
        milliseconds=1
    )


def test_order_completed_records_an_order_with_lines(tracking):
    tracking.post(
        "track",
        {
            "userId": "buyer",
            "event": "Order Completed",
            "timestamp": "2025-03-01T10:00:00Z",
            "properties": {
                "order_id": "A-1",
                "total": 44.5,
                "discount": 5,
                "coupon": "HELLO",
                "currency": "EUR",
                "products": [
                    {
                        "product_id": "p1",
                        "sku": "MUG",
                        "name": "Mug",
                        "category": "Kitchen",
                        "price": 12.25,
                        "quantity": 2,
                    },
                    {"product_id": "p2", "name": "Tea", "price": 20},
                ],
            },
        },
    )
    with transaction(tracking.db.sessions) as session:
        [order] = customers.list_orders(session=session)
        customer = customers.get_customer(session=session, customer_id=order.customer_id)
        stats = session.get(CustomerStats, customer.id)
        lines = [
            (x.sku, x.name, x.category, x.quantity, x.unit_price_cents, x.total_cents)
            for x in order.lines
        ]
    assert customer.external_id == "buyer"
    assert (order.external_id, order.total_cents, order.discount_cents) == ("A-1", 4450, 500)
    assert (order.currency, order.coupon_code, order.source) == ("EUR", "HELLO", "tracking")
    assert order.placed_at.isoformat() == "2025-03-01T10:00:00+00:00"
    assert lines == [("MUG", "Mug", "Kitchen", 2, 1225, 2450), ("p2", "Tea", None, 1, 2000, 2000)]
    assert (stats.order_count, stats.total_spent_cents) == (1, 4450)
    assert [e.name for e in tracking.events()] == ["Order Completed"]


def test_order_refunded_partially_then_fully_updates_status_and_stats(tracking):
    def refund(message_id: str, **props):
        return tracking.post(
            "track",
            {
                "userId": "c",
                "event": "Order Refunded",
                "messageId": message_id,
                "properties": {"order_id": "R-1", **props},
            },
        )

    tracking.post(
        "track",
        {
            "userId": "c",
            "event": "Order Completed",
            "properties": {"order_id": "R-1", "total": 100},
        },
    )
    assert refund("r1", total=30).status_code == 200

    def state():
        with transaction(tracking.db.sessions) as session:
            [order] = customers.list_orders(session=session)
            stats = session.get(CustomerStats, order.customer_id)
            return (order.status, order.refunded_cents, stats.order_count, stats.total_spent_cents)

    assert state() == ("partially_refunded", 3000, 1, 7000)
    refund("r2")
    assert state() == ("refunded", 10000, 0, 0)
    assert refund("r3", order_id="unknown").status_code == 200  # kept as an event only
    assert tracking.count(Event) == 4


def test_identify_with_both_ids_gives_earlier_anonymous_events_to_the_customer(tracking):
    tracking.post("page", {"anonymousId": "visitor", "name": "Home"})
    tracking.post("track", {"anonymousId": "visitor", "event": "Added"})
    assert {e.customer_id for e in tracking.events(anonymous_id="visitor")} == {None}
    tracking.post(
        "identify",
        {
            "userId": "ada",
            "anonymousId": "visitor",
            "traits": {"email": "ada@example.com", "firstName": "Ada", "plan": "pro"},
            "context": {"locale": "en-GB", "timezone": "Europe/London"},
        },
    )
    tracking.post("track", {"anonymousId": "visitor", "event": "Checkout"})
    with transaction(tracking.db.sessions) as session:
        ada = customers.find_customer(session=session, external_id="ada")
        profile = (ada.email, ada.first_name, ada.locale, ada.time_zone, ada.attributes)
    assert profile == ("ada@example.com", "Ada", "en-GB", "Europe/London", {"plan": "pro"})
    assert [e.customer_id for e in tracking.events(anonymous_id="visitor")] == [ada.id] * 4


def test_alias_links_the_previous_id_and_identify_without_user_id_updates_the_customer(tracking):
    tracking.post("track", {"anonymousId": "old", "event": "Browse"})
    tracking.post("alias", {"userId": "grace", "previousId": "old"})
    tracking.post("identify", {"anonymousId": "old", "traits": {"lastName": "Hopper"}})
    with transaction(tracking.db.sessions) as session:
        grace = customers.find_customer(session=session, external_id="grace")
        link = session.get(AnonymousId, "old")
    assert link.customer_id == grace.id and grace.last_name == "Hopper"
    assert {e.customer_id for e in tracking.events(anonymous_id="old")} == {grace.id}


def test_a_batch_mixes_every_type_in_order(tracking):
    batch = [
        {"type": "page", "anonymousId": "v", "name": "Landing", "messageId": "1"},
        {"type": "identify", "userId": "u", "anonymousId": "v", "messageId": "2"},
        {
            "type": "track",
            "anonymousId": "v",
            "event": "Order Completed",
            "messageId": "3",
            "properties": {"order_id": "B-1", "revenue": 9.99},
        },
        {"type": "group", "userId": "u", "groupId": "g", "messageId": "4"},
    ]
    assert tracking.post("batch", {"batch": batch}).status_code == 200
    events = tracking.events()
    assert [e.message_id for e in sorted(events, key=lambda e: e.message_id)] == list("1234")
    assert len({e.customer_id for e in events}) == 1 and events[0].customer_id is not None
    with transaction(tracking.db.sessions) as session:
        [order] = customers.list_orders(session=session)
    assert (order.customer_id, order.total_cents) == (events[0].customer_id, 999)


def test_segment_error_bodies_carry_code_and_message(tracking):
    encoded = base64.b64encode(f"{tracking.key}:".encode()).decode()
    response = tracking.client.post(
        "/v1/track", content=b"nope", headers={"Authorization": f"Basic {encoded}"}
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"code", "message", "error"}


def test_a_refund_needs_only_the_order_id(tracking):
    tracking.post(
        "track",
        {"userId": "c", "event": "Order Completed", "properties": {"order_id": "N-1", "total": 10}},
    )
    tracking.post(
        "track",
        {"anonymousId": "someone", "event": "Order Refunded", "properties": {"order_id": "N-1"}},
    )
    with transaction(tracking.db.sessions) as session:
        [order] = customers.list_orders(session=session)
    assert (order.status, order.refunded_cents) == ("refunded", 1000)


def test_text_the_database_cannot_store_gets_400_not_500(tracking):
    response = tracking.client.post(
        "/v1/track", auth=(tracking.key, ""), content=b'{"userId": "u", "event": "E\\u0000"}'
    )
    assert response.status_code == 400
    response = tracking.post(
        "track",
        {
            "userId": "u",
            "event": "Order Completed",
            "properties": {"order_id": "o", "coupon": "x" * 200},
        },
    )
    assert response.status_code == 400
    assert tracking.count(Event) == 0


def test_listeners_hear_once_per_batch_of_customers_with_new_events(tracking, monkeypatch):
    heard: list[set[int]] = []
    monkeypatch.setattr(
        activity,
        "contributions",
        lambda _point: [lambda *, session, customer_ids, now: heard.append(customer_ids)],
    )
    tracking.post(
        "batch",
        {
            "batch": [
                {"type": "track", "userId": "a", "event": "E"},
                {
                    "type": "track",
                    "userId": "b",
                    "event": "Order Completed",
                    "properties": {"order_id": "H-1", "total": 1},
                },
                {"type": "page", "anonymousId": "nobody", "name": "Home"},
            ]
        },
    )
    with transaction(tracking.db.sessions) as session:
        ids = {customers.find_customer(session=session, external_id=x).id for x in "ab"}
    assert set().union(*heard) == ids and sum(len(h) for h in heard) == 2
