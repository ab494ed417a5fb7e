"""Pure rules of webhooks: Standard Webhooks signatures, back-off, the disable rule, URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patron.errors import InvalidInput
from patron.webhooks import rules

# The Standard Webhooks specification's published test vector.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
AT = datetime.fromtimestamp(STAMP, UTC)


def _headers(**overrides) -> dict[str, str]:
    values = {"webhook-id": MSG_ID, "webhook-timestamp": str(STAMP), "webhook-signature": SIGNATURE}
    return {**values, **overrides}


def test_signature_matches_the_standard_webhooks_vector():
    assert rules.sign(SECRET, MSG_ID, STAMP, BODY) == SIGNATURE
    assert rules.headers(SECRET, MSG_ID, STAMP, BODY)["webhook-signature"] == SIGNATURE


def test_verify_accepts_the_genuine_request_within_the_tolerance():
    rules.verify(SECRET, _headers(), BODY, now=AT + timedelta(seconds=299))
    rules.verify(SECRET, {k.upper(): v for k, v in _headers().items()}, BODY.decode(), now=AT)
    rotated = _headers(**{"webhook-signature": f"v1,bm90IHRoaXMgb25l {SIGNATURE}"})
    rules.verify(SECRET, rotated, BODY, now=AT)


@pytest.mark.parametrize(
    "headers, body, now",
    [
        (_headers(), b'{"test": 2432232315}', AT),  # tampered body
        (_headers(**{"webhook-id": "msg_other"}), BODY, AT),  # another id
        (_headers(**{"webhook-timestamp": str(STAMP + 1)}), BODY, AT),  # another timestamp
        (_headers(), BODY, AT + timedelta(seconds=301)),  # too old
        (_headers(), BODY, AT - timedelta(seconds=301)),  # from the future
        (_headers(**{"webhook-signature": "v1,AAAA"}), BODY, AT),
        ({"webhook-id": MSG_ID}, BODY, AT),  # missing headers
    ],
)
def test_verify_rejects(headers, body, now):
    with pytest.raises(rules.InvalidSignature):
        rules.verify(SECRET, headers, body, now=now)


def test_a_different_secret_does_not_verify():
    other = rules.format_secret(b"\x01" * 32)
    with pytest.raises(rules.InvalidSignature):
        rules.verify(other, _headers(), BODY, now=AT)


def test_backoff_gives_eight_attempts_over_about_two_days():
    delays = [rules.next_attempt_delay(n) for n in range(1, 10)]
    assert delays[0] == timedelta(seconds=30) and delays[6] == timedelta(hours=24)
    assert delays[7] is None and delays[8] is None
    assert rules.MAX_ATTEMPTS == 8
    total = sum((d for d in delays if d), timedelta())
    assert timedelta(hours=40) < total < timedelta(hours=48)
    assert delays == [*sorted(delays[:7]), None, None]


T = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = rules.DisablePolicy(max_failures=3, max_failing_hours=2)


@pytest.mark.parametrize(
    "failures, hours, status, disabled",
    [
        (3, 2, 500, True),  # both thresholds reached
        (10, 1.9, 500, False),  # many failures but a short outage
        (2, 30, None, False),  # failing long but few attempts
        (1, 0, 410, True),  # Gone: at once
    ],
)
def test_disable_rule(failures, hours, status, disabled):
    reason = rules.disable_reason(
        consecutive_failures=failures,
        failing_since=T - timedelta(hours=hours),
        last_status_code=status,
        now=T,
        policy=POLICY,
    )
    assert (reason is not None) == disabled
    if status == 410:
        assert "410" in reason


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook",
        "http://127.0.0.1:8123/x?y=1",
        "http://localhost/h",
        "http://[::1]:80/",
    ],
)
def test_valid_urls(url):
    assert rules.validate_url(f"  {url} ") == url


@pytest.mark.parametrize(
    "url, message",
    [
        ("", "give"),
        ("ftp://example.com/x", "http"),
        ("example.com/hook", "http"),
        ("https://user:pw@example.com/h", "credentials"),
        ("https://user@example.com/h", "credentials"),
        ("http:///path", "host"),
        ("http://example.com:99999/", "not a valid URL"),
        ("http://exa mple.com/", "spaces"),
        ("https://example.com/" + "a" * 2100, "2048"),
    ],
)
def test_invalid_urls(url, message):
    with pytest.raises(InvalidInput) as error:
        rules.validate_url(url)
    assert message in error.value.message


def test_event_types_must_be_known_and_not_empty():
    known = ["order.completed", "customer.created"]
    assert rules.validate_event_types(["order.completed", "order.completed"], known) == [
        "order.completed"
    ]
    with pytest.raises(InvalidInput, match="at least one"):
        rules.validate_event_types([], known)
    with pytest.raises(InvalidInput) as error:
        rules.validate_event_types(["order.completed", "order.shipped"], known)
    assert "order.shipped" in error.value.message
