"""Advocacy score and ambassador stage from a scripted history of events, then a refresh;
the community webhooks (Discourse and generic) with their signatures; the ambassadors page."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.advocates import rules, service
from patron.analytics.refresh import refresh
from patron.analytics.tables import CustomerScore
from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.events.tables import LoggedEvent
from patron.events.types import event
from patron.manifest import installed
from patron.webhooks import rules as signing
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.events.test_service import pump_until_caught_up

DISCOURSE_SECRET = "discourse-s3cret"
GENERIC_SECRET = signing.format_secret(b"k" * 32)


def _consumers():
    return {service.CONSUMER: installed().consumers()[service.CONSUMER]}


def _history(db) -> dict[str, int]:
    """Customers a (an ambassador), b (a re-scored promoter), c (no order), d (nothing)."""
    with transaction(db.sessions) as s:
        ids = {
            name: factories.customer(s, name, email=f"{name}@example.com").id
            for name in ("a", "b", "c", "d")
        }
        for n, name in enumerate(("a", "b", "d")):
            factories.order(s, f"o{n}", name, days=n)
            factories.order(s, f"p{n}", name, days=20 + n)
        a, b, c = ids["a"], ids["b"], ids["c"]
        promoter = {"survey_id": 1, "question_type": "nps", "score": 10, "nps_category": "promoter"}
        script = [
            event("survey.answered", a, response_id=1, **promoter),
            event("survey.answered", a, response_id=1, **promoter),  # the same answer again
            event(
                "referral.qualified",
                a,
                referral_id=9,
                referrer_customer_id=a,
                referee_customer_id=c,
                order_id=1,
                referrer_points=0,
                referee_points=0,
            ),
            event("review.approved", a, review_id=5, sku="S", rating=5),
            event("gathering.attended", a, gathering_id=1),
            event("community.activity", a, kind="post", source="forum", external_id="p1"),
            event("community.activity", a, kind="post", source="forum", external_id="p2"),
            event("survey.answered", b, response_id=2, **promoter),
            event(
                "survey.answered",
                b,
                response_id=2,
                **promoter | {"score": 7, "nps_category": "passive"},
            ),
            event("review.approved", b, review_id=6, sku="S", rating=4),
            event(
                "referral.qualified",
                c,
                referral_id=10,
                referrer_customer_id=c,
                referee_customer_id=a,
                order_id=2,
                referrer_points=0,
                referee_points=0,
            ),
            event(
                "referral.qualified",
                c,
                referral_id=11,
                referrer_customer_id=c,
                referee_customer_id=b,
                order_id=3,
                referrer_points=0,
                referee_points=0,
            ),
            event("order.completed", a, order_id=1),  # not an advocacy act
        ]
        events.append(s, script, now=factories.at(30))
    pump_until_caught_up(db, _consumers(), now=factories.at(30))
    return ids


def _stages(db) -> dict[int, str | None]:
    with transaction(db.sessions) as s:
        return dict(
            s.execute(select(CustomerScore.customer_id, CustomerScore.lifecycle_stage)).all()
        )


def test_score_parts_and_ambassador_stage_from_a_scripted_history(sqlite_db, monkeypatch):
    db = sqlite_db
    ids = _history(db)
    a, b, c, d = ids["a"], ids["b"], ids["c"], ids["d"]
    with transaction(db.sessions) as s:
        score = service.score_of(session=s, customer_id=a)
        assert score["score"] == 3 + 5 + 2 + 2 + 2 * 1
        assert {p: v["count"] for p, v in score["parts"].items()} == {
            "promoter": 1,
            "referral": 1,
            "review": 1,
            "attendance": 1,
            "community": 2,
        }
        assert service.score_of(session=s, customer_id=b)["parts"]["promoter"]["count"] == 0
        assert service.score_of(session=s, customer_id=b)["score"] == 2
        listed = service.ambassadors(session=s)
        assert [(r["customer_id"], r["score"]) for r in listed] == [(a, 14.0), (c, 10.0)]
        assert listed[0]["parts"]["community"] == 2
    refresh(sessions=db.sessions, now=factories.at(40))
    stages = _stages(db)
    assert stages[a] == "ambassador"
    assert stages[b] not in (None, "ambassador") and stages[d] not in (None, "ambassador")
    assert stages[c] is None  # a prospect: the ambassador stage needs an order

    monkeypatch.setenv("PATRON_ADVOCATES_WEIGHTS", "promoter=3,review=2")
    monkeypatch.setenv("PATRON_ADVOCATES_AMBASSADOR_SCORE", "5")
    monkeypatch.setenv("PATRON_ADVOCATES_PERKS", "Early access; Free shipping")
    refresh(sessions=db.sessions, now=factories.at(41))
    assert _stages(db)[a] == "ambassador" and _stages(db)[b] != "ambassador"
    with transaction(db.sessions) as s:
        (row,) = service.ambassadors(session=s)
        assert (row["customer_id"], row["score"], row["stage"]) == (a, 5.0, "ambassador")
        assert row["perks"] == ["Early access", "Free shipping"]

    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        page = client.get("/ambassadors")
        assert page.status_code == 200 and f'data-customer="{a}"' in page.text
        assert "Free shipping" in page.text and f'data-customer="{b}"' not in page.text
        panel = client.get(f"/customers/{a}").text
        assert 'data-testid="advocacy-panel"' in panel and "Advocacy: 5.0" in panel
        assert 'data-testid="advocacy-panel"' not in client.get(f"/customers/{d}").text


def _discourse(client, event_name: str, payload: dict, secret=DISCOURSE_SECRET):
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Discourse-Event": event_name,
        "X-Discourse-Event-Type": event_name.split("_")[0],
        "X-Discourse-Event-Signature": rules.discourse_signature(secret, body),
    }
    return client.post("/hooks/community/discourse", content=body, headers=headers)


def _activity_events(db):
    with transaction(db.sessions) as s:
        rows = s.scalars(select(LoggedEvent).where(LoggedEvent.type == "community.activity"))
        return sorted((e.customer_id, e.data["kind"], e.data["external_id"]) for e in rows)


def test_community_webhooks_are_signed_and_mapped_by_email(db, monkeypatch):
    """On both databases: ON CONFLICT and RETURNING differ by dialect."""
    with transaction(db.sessions) as s:
        ada = factories.customer(s, "ada", email="Ada@Example.com").id
        bob = factories.customer(s, "bob", email="bob@example.com").id
    client = TestClient(create_app(db.settings(), engine=db.engine))
    post = {
        "post": {
            "id": 10,
            "username": "ada",
            "post_number": 2,
            "created_at": "2026-04-02T08:00:00Z",
        }
    }
    assert _discourse(client, "post_created", post).status_code == 401  # no secret set
    monkeypatch.setenv("PATRON_ADVOCATES_DISCOURSE_SECRET", DISCOURSE_SECRET)
    assert _discourse(client, "post_created", post, secret="wrong").status_code == 401
    assert _activity_events(db) == []

    user = {"user": {"id": 1, "username": "ada", "email": "ada@example.com"}}
    assert _discourse(client, "user_created", user).json()["matched"] == 0
    first = _discourse(client, "post_created", post).json()
    assert (first["recorded"], first["matched"]) == (1, 1)
    assert _discourse(client, "post_created", post).json()["recorded"] == 0  # a retry
    like = {"like": {"post": post["post"] | {"id": 11, "username": "zed"}, "user": {"id": 1}}}
    assert _discourse(client, "post_liked", like).json()["matched"] == 0  # zed is unknown
    zed = {"user": {"id": 2, "username": "zed", "email": "BOB@example.com"}}
    assert _discourse(client, "user_updated", zed).json()["matched"] == 1  # matched now
    assert _discourse(client, "ping", {"ping": "OK"}).json()["ignored"] is True

    body = json.dumps(
        {
            "source": "slack",
            "activities": [
                {"id": "m1", "kind": "answer", "email": "ada@example.com"},
                {"id": "m2", "kind": "answer", "email": "nobody@example.com"},
            ],
        }
    ).encode()
    stamp = int(utcnow().timestamp())
    headers = signing.headers(GENERIC_SECRET, "msg_1", stamp, body)
    monkeypatch.setenv("PATRON_ADVOCATES_COMMUNITY_SECRET", GENERIC_SECRET)
    forged = dict(
        headers, **{"webhook-signature": signing.sign(GENERIC_SECRET, "msg_2", stamp, body)}
    )
    assert client.post("/hooks/community", content=body, headers=forged).status_code == 401
    answer = client.post("/hooks/community", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {
        "received": 2,
        "recorded": 2,
        "matched": 1,
    }
    bad = client.post(
        "/hooks/community",
        content=b"[1]",
        headers=signing.headers(GENERIC_SECRET, "msg_3", stamp, b"[1]"),
    )
    assert bad.status_code == 422

    assert _activity_events(db) == sorted(
        [
            (ada, "post", "post:10"),
            (bob, "like_received", "like:11:1"),
            (ada, "answer", "m1"),
        ]
    )
    pump_until_caught_up(db, _consumers(), now=utcnow())
    with transaction(db.sessions) as s:
        assert service.score_of(session=s, customer_id=ada)["parts"]["community"]["count"] == 2
        assert service.score_of(session=s, customer_id=bob)["parts"]["community"]["count"] == 1
