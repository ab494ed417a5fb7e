"""Pure rules of the tracking API: timestamps, limits, validation, e-commerce mapping."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from patron.tracking import ecommerce, rules
from patron.tracking.rules import BadMessage, TooLarge

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _ids():
    """A new_id function yielding gen-1, gen-2, ..."""
    counter = itertools.count(1)
    return lambda: f"gen-{next(counter)}"


def _one(raw: dict, type_: str | None = "track", **env) -> rules.Message:
    """Validate one message with a fixed receive time."""
    envelope = rules.Envelope(received_at=NOW, **env)
    return rules.message(raw, type_=type_, env=envelope, new_id=_ids())


def _batch(items: list, **extra) -> list[rules.Message]:
    """Validate a batch body built from items."""
    data = {"batch": items, **extra}
    return rules.batch(data, body_size=len(orjson.dumps(data)), received_at=NOW, new_id=_ids())


def test_clock_skew_is_corrected_with_sent_at():
    client = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)  # a client clock years ahead
    sent = client + timedelta(seconds=30)
    assert rules.corrected_time(client, sent, NOW) == NOW - timedelta(seconds=30)


def test_without_sent_at_the_client_time_is_kept_and_without_it_received_at():
    client = NOW - timedelta(days=3)
    assert rules.corrected_time(client, None, NOW) == client
    assert rules.corrected_time(None, NOW + timedelta(hours=1), NOW) == NOW


def test_batch_sent_at_applies_to_each_message_and_message_sent_at_wins():
    items = [
        {
            "type": "track",
            "userId": "u",
            "event": "E",
            "messageId": "m1",
            "timestamp": "2025-06-01T09:00:00Z",
        },
        {
            "type": "track",
            "userId": "u",
            "event": "E",
            "messageId": "m2",
            "timestamp": "2025-06-01T09:00:00Z",
            "sentAt": "2025-06-01T09:00:05Z",
        },
    ]
    first, second = _batch(items, sentAt="2025-06-01T09:10:00Z")
    assert first.occurred_at == NOW - timedelta(minutes=10)
    assert second.occurred_at == NOW - timedelta(seconds=5)


def test_original_timestamp_is_corrected_like_timestamp():
    msg = _one(
        {
            "userId": "u",
            "event": "E",
            "originalTimestamp": "2025-06-01T08:00:00+02:00",
            "sentAt": "2025-06-01T06:01:00Z",
        }
    )
    assert msg.occurred_at == NOW - timedelta(minutes=1)


def test_timestamps_are_parsed_to_aware_utc():
    assert rules.parse_timestamp("2025-06-01T14:00:00+02:00", "t") == datetime(
        2025, 6, 1, 12, tzinfo=UTC
    )
    assert rules.parse_timestamp("2025-06-01T12:00:00.123Z", "t").tzinfo == UTC
    assert rules.parse_timestamp("2025-06-01T12:00:00", "t") == datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert rules.parse_timestamp(None, "t") is None


@pytest.mark.parametrize("value", ["yesterday", 1717243200, "2025-13-01T00:00:00Z"])
def test_a_bad_timestamp_is_refused_with_400(value):
    with pytest.raises(BadMessage) as caught:
        _one({"userId": "u", "event": "E", "timestamp": value})
    assert caught.value.status == 400
    assert "timestamp" in caught.value.message


def test_no_timestamp_means_received_at():
    assert _one({"userId": "u", "event": "E"}).occurred_at == NOW


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"event": "E"}, "either userId or anonymousId is required"),
        ({"userId": True, "event": "E"}, "userId must be a string or a number"),
        ({"userId": ["u"], "event": "E"}, "userId must be a string or a number"),
        ({"userId": "u", "event": "E", "properties": [1]}, "properties must be an object"),
        ({"userId": "u", "event": "E", "context": "web"}, "context must be an object"),
        ({"userId": "u"}, "event is required"),
        ({"userId": "u", "event": 7}, "event must be a string"),
        ({"userId": "x" * 256, "event": "E"}, "userId must be at most 255 characters"),
    ],
)
def test_invalid_track_messages_say_what_is_wrong(raw, fragment):
    with pytest.raises(BadMessage) as caught:
        _one(raw)
    assert fragment in caught.value.message
    assert caught.value.status == 400


def test_numeric_ids_become_strings_and_a_missing_message_id_is_generated():
    msg = _one({"userId": 42, "anonymousId": 7.5, "event": "E"})
    assert (msg.user_id, msg.anonymous_id, msg.message_id) == ("42", "7.5", "gen-1")


def test_group_needs_a_group_id_and_is_named_by_it():
    with pytest.raises(BadMessage, match="groupId is required"):
        _one({"userId": "u"}, "group")
    msg = _one({"userId": "u", "groupId": "acme", "traits": {"plan": "b2b"}}, "group")
    assert (msg.name, msg.properties) == ("acme", {"plan": "b2b"})


def test_alias_needs_both_ids():
    with pytest.raises(BadMessage, match="alias needs both userId and previousId"):
        _one({"userId": "u"}, "alias")
    msg = _one({"userId": "u", "previousId": "anon-1"}, "alias")
    assert msg.previous_id == "anon-1"


def test_page_takes_name_and_category():
    msg = _one({"anonymousId": "a", "name": "Pricing", "category": "Docs"}, "page")
    assert msg.name == "Pricing" and msg.properties == {"category": "Docs"}


def test_batch_messages_name_their_type_and_batch_context_is_merged():
    msgs = _batch(
        [{"type": "screen", "userId": "u", "name": "Home", "context": {"app": "ios"}}],
        context={"app": "web", "ip": "1.2.3.4"},
    )
    assert msgs[0].type == "screen"
    assert msgs[0].context == {"app": "ios", "ip": "1.2.3.4"}
    with pytest.raises(BadMessage, match=r"batch\[0\]\.type must be one of"):
        _batch([{"type": "flush", "userId": "u"}])


def test_one_bad_message_refuses_the_batch_and_names_its_position():
    good = {"type": "track", "userId": "u", "event": "E"}
    with pytest.raises(BadMessage, match=r"batch\[1\]: either userId or anonymousId"):
        _batch([good, {"type": "track", "event": "E"}])
    with pytest.raises(BadMessage, match="batch must be an array"):
        _batch({"not": "a list"})


def test_duplicate_message_ids_in_a_batch_count_once():
    items = [
        {"type": "track", "userId": "u", "event": e, "messageId": "same"}
        for e in ("first", "second")
    ]
    msgs = _batch([*items, {"type": "track", "userId": "u", "event": "third"}])
    assert [m.name for m in msgs] == ["first", "third"]


def test_size_limits_of_message_and_batch():
    big = b'{"userId": "u", "event": "E", "properties": {"x": "' + b"a" * 33_000 + b'"}}'
    with pytest.raises(TooLarge, match="message is larger than the 32 KB limit") as caught:
        rules.parse_json(big, limit=rules.MAX_MESSAGE_BYTES)
    assert caught.value.status == 400
    assert rules.parse_json(big, limit=rules.MAX_BATCH_BYTES)["userId"] == "u"
    with pytest.raises(TooLarge, match="batch is larger than the 500 KB limit"):
        rules.parse_json(b" " * (500 * 1024 + 1), limit=rules.MAX_BATCH_BYTES)


def test_a_batch_checks_each_message_against_the_message_limit():
    small = {"type": "track", "userId": "u", "event": "E"}
    large = {**small, "properties": {"x": "a" * 33_000}}
    with pytest.raises(TooLarge, match=r"batch\[1\]: message is larger than the 32 KB"):
        _batch([small, large])
    assert len(_batch([small, {**small, "properties": {"x": "a" * 30_000}}])) == 2


def test_malformed_json_and_non_objects_are_refused():
    with pytest.raises(BadMessage, match="not valid JSON"):
        rules.parse_json(b'{"userId": ', limit=rules.MAX_MESSAGE_BYTES)
    with pytest.raises(BadMessage, match="must be a JSON object"):
        rules.parse_json(b"[1, 2]", limit=rules.MAX_MESSAGE_BYTES)


def test_gzip_bodies_are_decoded_within_the_limit():
    body = orjson.dumps({"batch": []})
    assert rules.decode_body(gzip.compress(body), "gzip", limit=100) == body
    assert rules.decode_body(body, None, limit=100) == body
    with pytest.raises(TooLarge):
        rules.decode_body(gzip.compress(b" " * 10_000), "gzip", limit=1000)
    with pytest.raises(BadMessage, match="not valid gzip"):
        rules.decode_body(b"plain", "gzip", limit=1000)
    with pytest.raises(BadMessage, match="unsupported Content-Encoding"):
        rules.decode_body(body, "br", limit=1000)


def test_order_completed_becomes_an_order_in_minor_units():
    order = ecommerce.order_data(
        "Order Completed",
        {
            "order_id": 1001,
            "total": "27.50",
            "discount": 2.5,
            "coupon": "SPRING",
            "currency": "eur",
            "products": [
                {
                    "product_id": "p1",
                    "sku": "SKU-1",
                    "name": "Mug",
                    "category": "Kitchen",
                    "price": 10,
                    "quantity": 2,
                },
                {"product_id": "p2", "price": 7.5},
            ],
        },
        "body",
    )
    assert (order.action, order.order_id, order.currency) == ("complete", "1001", "EUR")
    assert (order.total_cents, order.discount_cents, order.coupon) == (2750, 250, "SPRING")
    assert order.lines[0] == ecommerce.OrderLineData("SKU-1", "Mug", "Kitchen", 2, 1000)
    assert (order.lines[1].sku, order.lines[1].quantity, order.lines[1].unit_price_cents) == (
        "p2",
        1,
        750,
    )


def test_order_total_falls_back_to_revenue_then_to_the_products():
    revenue = ecommerce.order_data(
        "Order Completed", {"order_id": "o", "revenue": 12, "currency": "JPY"}, "b"
    )
    assert revenue.total_cents == 12
    summed = ecommerce.order_data(
        "Order Completed",
        {"order_id": "o", "products": [{"sku": "a", "price": 1.25, "quantity": 4}]},
        "b",
    )
    assert summed.total_cents == 500


def test_order_refunded_is_partial_with_an_amount_and_full_without():
    assert (
        ecommerce.order_data("Order Refunded", {"order_id": "o", "total": 5}, "b").total_cents
        == 500
    )
    assert ecommerce.order_data("Order Refunded", {"order_id": "o"}, "b").total_cents is None
    assert ecommerce.order_data("Product Viewed", {"order_id": "o"}, "b") is None


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({}, "order_id is required"),
        ({"order_id": "o", "total": "lots"}, "total must be a number"),
        ({"order_id": "o", "total": -1}, "total must not be negative"),
        ({"order_id": "o", "currency": "euro"}, "currency must be a 3-letter ISO code"),
        ({"order_id": "o", "products": {"sku": "a"}}, "products must be an array"),
        (
            {"order_id": "o", "products": [{"sku": "a", "quantity": 0}]},
            "quantity must be a positive",
        ),
        ({"order_id": "o", "products": [{"sku": "a", "price": "x"}]}, "price must be a number"),
    ],
)
def test_bad_order_properties_are_refused(props, fragment):
    with pytest.raises(BadMessage) as caught:
        _one({"userId": "u", "event": "Order Completed", "properties": props})
    assert fragment in caught.value.message


def test_identify_traits_map_to_profile_fields_and_attributes():
    msg = _one(
        {
            "userId": "u",
            "traits": {
                "email": "Ada@Example.COM",
                "firstName": "Ada",
                "last_name": "Lovelace",
                "phone": "+44 1",
                "birthday": "1815-12-10",
                "plan": "pro",
            },
            "context": {"locale": "en-GB", "timezone": "Europe/London"},
        },
        "identify",
    )
    assert msg.profile == {
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+44 1",
        "birthday": date(1815, 12, 10),
        "locale": "en-GB",
        "time_zone": "Europe/London",
        "attributes": {"plan": "pro"},
    }
    assert msg.properties["plan"] == "pro"


@pytest.mark.parametrize(
    ("traits", "fragment"),
    [
        ({"email": "not-an-address"}, "email is not a valid address"),
        ({"birthday": "soon"}, "birthday must be an ISO date"),
        ({"firstName": 3}, "traits.firstName must be a string"),
    ],
)
def test_bad_identify_traits_are_refused(traits, fragment):
    with pytest.raises(BadMessage) as caught:
        _one({"userId": "u", "traits": traits}, "identify")
    assert fragment in caught.value.message


def test_profile_differs_only_when_a_given_value_changes():
    current = {"email": "a@b.co", "first_name": "Ada", "attributes": {"plan": "pro", "x": 1}}
    assert not rules.profile_differs(current, {"email": "a@b.co", "attributes": {"plan": "pro"}})
    assert rules.profile_differs(current, {"first_name": "Grace"})
    assert rules.profile_differs(current, {"attributes": {"plan": "free"}})
    assert rules.profile_differs(current, {"attributes": {"new": None}})


def test_nul_characters_and_absurd_clock_gaps_are_refused():
    with pytest.raises(BadMessage, match="NUL"):
        rules.parse_json(b'{"userId": "u\\u0000", "event": "E"}', limit=rules.MAX_MESSAGE_BYTES)
    with pytest.raises(BadMessage, match="too far apart"):
        _one(
            {
                "userId": "u",
                "event": "E",
                "timestamp": "0001-01-01T00:00:00Z",
                "sentAt": "9999-12-31T00:00:00Z",
            }
        )


def test_order_fields_respect_column_lengths():
    with pytest.raises(BadMessage, match="sku must be at most 128"):
        ecommerce.order_data(
            "Order Completed", {"order_id": "o", "products": [{"sku": "s" * 129}]}, "b"
        )
    with pytest.raises(BadMessage, match="coupon must be at most 128"):
        ecommerce.order_data("Order Completed", {"order_id": "o", "coupon": "c" * 129}, "b")
