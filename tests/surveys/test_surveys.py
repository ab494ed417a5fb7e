"""Surveys: rules, the recontact limit across surveys, bad links, the journey step, API, NPS KPI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from patron.analytics import service as analytics
from patron.auth import service as auth
from patron.customers.read import Customer
from patron.db import transaction, utcnow
from patron.loyalty.read import LoyaltyAccount
from patron.messages.tables import OutboxMessage
from patron.segments import service as segments
from patron.surveys import links, rules, service, steps
from patron.surveys.tables import SurveyResponse
from tests.surveys.conftest import NOW, SECRET, client, person, survey


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10), max_size=40))
def test_nps_is_promoters_minus_detractors_share(scores):
    cats = [rules.nps_category(s) for s in scores]
    p, pa, d = (cats.count(c) for c in rules.CATEGORIES)
    value = rules.nps(p, pa, d)
    if not scores:
        assert value is None
    else:
        assert -100 <= value <= 100
        assert value == round(100 * (p - d) / len(scores), 1)


def test_questions_and_answers_are_checked():
    with pytest.raises(rules.SurveyError, match="first question must be scored"):
        rules.parse_questions([{"type": "text", "prompt": "Why?"}])
    with pytest.raises(rules.SurveyError, match="choices"):
        rules.parse_questions(
            [{"type": "csat"}, {"type": "single", "prompt": "Pick", "choices": ["a"]}]
        )
    qs = rules.parse_questions(
        [{"type": "ces"}, {"type": "single", "prompt": "Pick", "choices": ["a", "b"]}]
    )
    assert rules.check_answers(qs, {"q1": "7", "q2": "b"}, partial=False) == {"q1": 7, "q2": "b"}
    for bad in ({"q1": 8}, {"q1": 0}, {"q2": "c"}, {"nope": 1}):
        with pytest.raises(rules.SurveyError):
            rules.check_answers(qs, bad, partial=True)


def test_a_tampered_or_expired_link_answers_400_and_records_nothing(sqlite_db):
    db = sqlite_db
    survey_id = survey(db)
    with transaction(db.sessions) as s:
        customer_id = person(s, 1).id
    http = client(db)
    good = links.token(
        SECRET, survey_id=survey_id, customer_id=customer_id, request_id=None, now=utcnow()
    )
    old = links.token(
        SECRET,
        survey_id=survey_id,
        customer_id=customer_id,
        request_id=None,
        now=utcnow() - timedelta(days=31),
    )
    forged = links.token(
        "another-secret",
        survey_id=survey_id,
        customer_id=customer_id,
        request_id=None,
        now=utcnow(),
    )
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for token in (tampered, old, forged):
        for response in (
            http.get(f"/s/{token}/9", follow_redirects=False),
            http.post(f"/s/{token}", data={"reason": "x"}),
        ):
            assert response.status_code == 400 and 'data-state="invalid"' in response.text
    assert http.get(f"/s/{good}/11", follow_redirects=False).status_code == 400  # off scale
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    assert http.get(f"/s/{good}/10", follow_redirects=False).status_code == 303
    with transaction(db.sessions) as s:
        assert s.scalar(select(SurveyResponse.score)) == 10


def test_the_recontact_limit_holds_across_surveys_and_journey_steps(sqlite_db):
    db = sqlite_db
    nps, csat = survey(db, "NPS"), survey(db, "CSAT", [{"type": "csat"}])
    with transaction(db.sessions) as s:
        a, b = person(s, 1).id, person(s, 2).id
        first = service.ask(session=s, survey_id=nps, customer_id=a, key="k1", now=NOW)
        again = service.ask(session=s, survey_id=nps, customer_id=a, key="k1", now=NOW)
        other = service.ask(
            session=s, survey_id=csat, customer_id=a, key="k2", now=NOW + timedelta(days=29)
        )
        step = steps.perform(
            session=s,
            customer_id=a,
            fields={"survey_id": csat},
            key="v:s:e:0",
            now=NOW + timedelta(days=10),
        )
        b_ok = service.ask(session=s, survey_id=csat, customer_id=b, key="k3", now=NOW)
        later = service.ask(
            session=s, survey_id=csat, customer_id=a, key="k4", now=NOW + timedelta(days=30)
        )
        sent = s.scalar(select(func.count()).select_from(OutboxMessage))
    assert again == first and "request_id" in first  # the same key is the same request
    assert other == {"skipped": "asked a survey within 30 days"}
    assert step == {"skipped": "asked a survey within 30 days"}
    assert "request_id" in b_ok and "request_id" in later
    assert sent == 3
    with pytest.raises(Exception, match="survey_id"):
        steps.fields({"survey_id": "x"}, "ask")


def test_shop_api_asks_within_the_limit_and_answers_feed_results_and_the_nps_kpi(sqlite_db):
    db = sqlite_db
    survey_id = survey(db)
    with transaction(db.sessions) as s:
        for n in range(1, 5):
            person(s, n)
        gold = s.scalar(select(Customer.id).where(Customer.external_id == "c1"))
        s.add(LoyaltyAccount(customer_id=gold, tier="Gold", created_at=NOW, updated_at=NOW))
        key = auth.create_key(session=s, name="shop", scopes="read,write", now=NOW)[1]
    http, headers = client(db), {"Authorization": f"Bearer {key}"}
    for n, score in zip(range(1, 5), (10, 9, 7, 2), strict=True):
        ask = http.post(
            f"/api/surveys/{survey_id}/asks", json={"customer": f"c{n}"}, headers=headers
        ).json()
        assert ask["ask"] is True, ask
        answered = http.post(
            f"/api/surveys/{survey_id}/responses",
            headers=headers,
            json={"token": ask["token"], "answers": {"q1": score}},
        )
        assert answered.status_code == 200, answered.text
    repeat = http.post(f"/api/surveys/{survey_id}/asks", json={"customer": "c1"}, headers=headers)
    assert repeat.json() == {"ask": False, "reason": "asked a survey within 30 days"}
    bad = http.post(
        f"/api/surveys/{survey_id}/responses",
        headers=headers,
        json={"token": "nope", "answers": {"q1": 5}},
    )
    assert bad.status_code == 422
    out = http.get(f"/api/surveys/{survey_id}/results", headers=headers).json()
    assert out["summary"]["nps"] == 25.0 and out["summary"]["answers"] == 4  # (2 - 1) / 4
    assert out["stages"][0]["label"] == "unscored"
    tiers = {r["label"]: (r["answers"], r["nps"]) for r in out["tiers"]}
    assert tiers == {"Gold": (1, 100.0), "no tier": (3, 0.0)}  # c1 gave 10; then 9, 7, 2
    promoters = {
        "type": "event",
        "name": "survey_answered",
        "where": [{"key": "nps_category", "op": "eq", "value": "promoter"}],
    }
    with transaction(db.sessions) as s:  # answers are tracked events segments can count
        assert segments.count(session=s, rules_json=promoters, now=utcnow()) == 2
    today = utcnow().date()
    with transaction(db.sessions) as s:
        report = analytics.kpi_report(session=s, start=today - timedelta(days=6), end=today)
    kpi = {r["name"]: r for r in report["kpis"]}["net_promoter_score"]
    assert kpi["value"] == 25.0 and kpi["previous"] is None
    assert date.today()  # the KPI reads surveys only through the analytics.nps extension point
