"""Pure rules of advocates: weights, scores, credit references, community payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from patron.advocates import rules
from patron.errors import InvalidInput

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def test_weights_and_scores():
    w = rules.parse_weights("promoter=3, referral=5,community=0.5")
    assert w.tolist() == [3, 5, 0, 0, 0.5]
    counts = np.array([[1, 1, 0, 0, 2], [0, 0, 0, 0, 0]])
    assert rules.scores(counts, w).tolist() == [9.0, 0.0]
    for bad in ("fame=2", "promoter=lots", "review=-1"):
        with pytest.raises(InvalidInput):
            rules.parse_weights(bad)


def test_credit_references_make_each_act_count_once():
    assert rules.credit_ref("survey.answered", {"response_id": 7}) == "7"
    assert rules.credit_ref("referral.qualified", {"referral_id": 3}) == "3"
    assert rules.credit_ref("community.activity", {"source": "d", "external_id": "p:1"}) == "d:p:1"
    assert rules.credit_ref("review.approved", {}) is None


def test_generic_format_and_its_errors():
    body = json.dumps(
        {
            "source": "forum",
            "activities": [
                {"id": "p1", "kind": "post", "email": "Ada@X.com"},
                {"id": 2, "kind": "answer", "email": "b@x.com", "occurred_at": "2026-04-01T10:00Z"},
            ],
        }
    ).encode()
    a, b = rules.generic(body, now=NOW)
    assert (a.source, a.external_id, a.kind, a.email, a.occurred_at) == (
        "forum",
        "p1",
        "post",
        "ada@x.com",
        NOW,
    )
    assert b.occurred_at == datetime(2026, 4, 1, 10, tzinfo=UTC)
    for bad, message in [
        (b"nope", "JSON"),
        (b'{"activities": []}', "activities"),
        (b'{"id": "1", "kind": "Post!", "email": "a@x.com"}', "kind"),
        (b'{"id": "1", "kind": "post"}', "email"),
        (b'{"id": "1", "kind": "post", "email": "a@x", "occurred_at": "2026-01-01T10:00"}', "zone"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            rules.generic(bad, now=NOW)


def test_discourse_signature():
    body = b'{"post": {"id": 1}}'
    good = rules.discourse_signature("s3cret", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    headers = {"X-Discourse-Event": "post_created", "X-Discourse-Event-Signature": good}
    assert rules.verify_discourse("s3cret", headers, body) == "post_created"
    with pytest.raises(rules.InvalidSignature):
        rules.verify_discourse("other", headers, body)
    with pytest.raises(rules.InvalidSignature):
        rules.verify_discourse("s3cret", headers, body + b" ")
    with pytest.raises(rules.InvalidSignature, match="missing"):
        rules.verify_discourse("s3cret", {"X-Discourse-Event": "post_created"}, body)


def test_discourse_payloads():
    post = {"id": 10, "username": "ada", "post_number": 1, "created_at": "2026-04-02T08:00:00.000Z"}
    topic = rules.discourse("post_created", json.dumps({"post": post}).encode(), now=NOW)
    assert (topic.kind, topic.external_id, topic.username, topic.email) == (
        "topic",
        "post:10",
        "ada",
        None,
    )
    assert topic.occurred_at == datetime(2026, 4, 2, 8, tzinfo=UTC)
    reply = rules.discourse(
        "post_created", json.dumps({"post": post | {"post_number": 4}}).encode(), now=NOW
    )
    assert reply.kind == "post"
    like = {"like": {"post": post | {"username": "bob"}, "user": {"id": 5, "username": "cy"}}}
    liked = rules.discourse("post_liked", json.dumps(like).encode(), now=NOW)
    assert (liked.kind, liked.username, liked.external_id) == ("like_received", "bob", "like:10:5")
    user = rules.discourse(
        "user_created", b'{"user": {"username": "ada", "email": "Ada@X.com"}}', now=NOW
    )
    assert user == rules.DiscourseUser("ada", "ada@x.com")
    assert rules.discourse("ping", b"{}", now=NOW) is None
    with pytest.raises(InvalidInput, match="post"):
        rules.discourse("post_created", b'{"topic": {}}', now=NOW)
