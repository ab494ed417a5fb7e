"""REST API of analytics through the app: insights, KPIs, cohorts, RFM; scopes and bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.analytics.refresh import refresh
from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from tests.analytics.shop import Sale, load_shop
from tests.factories import at


@pytest.fixture
def api(db) -> TestClient:
    """A client holding a read key."""
    with transaction(db.sessions) as session:
        key = auth_service.create_key(session=session, name="t", scopes="read", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def _shop(db) -> dict[str, int]:
    """Ten repeat buyers, refreshed."""
    sales = [Sale(f"c{i}", d, 500 * (i + 1)) for i in range(10) for d in range(0, 5 * i + 1, 5)]
    with transaction(db.sessions) as session:
        ids = load_shop(session, sales)
    refresh(sessions=db.sessions, now=at(60))
    return ids


def test_customer_insights(api, db):
    ids = _shop(db)
    answer = api.get(f"/api/customers/{ids['c9']}/insights")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer_id"] == ids["c9"]
    assert body["monetary_score"] == 5 and body["lifecycle_stage"]
    assert body["stage_history"][0]["to"] == body["lifecycle_stage"]
    for name in ("p_alive", "expected_purchases_90d", "predicted_clv_cents", "churn_risk"):
        assert name in body
    assert api.get("/api/customers/987654/insights").status_code == 404


def test_kpis_cohorts_and_rfm(api, db):
    _shop(db)
    kpis = api.get("/api/analytics/kpis", params={"start": "2025-01-16", "end": "2025-01-30"})
    assert kpis.status_code == 200, kpis.text
    body = kpis.json()
    assert body["period"]["orders"] > 0 and body["previous_period"]["end"] == "2025-01-15"
    assert {k["name"] for k in body["kpis"]} >= {"retention_rate", "historical_clv"}
    cohorts = api.get("/api/analytics/cohorts", params={"months": 3}).json()
    assert cohorts["months"] == 3
    rfm = api.get("/api/analytics/rfm").json()
    assert rfm["customers"] == 10 and len(rfm["segments"]) == 11
    assert rfm["segments"][0]["name"] == "Champions"


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2025-02-01", "end": "2025-01-01"},
        {"start": "1800-01-01", "end": "1800-01-02"},
        {"start": "2001-01-01", "end": "2025-01-01"},
        {"start": "yesterday"},
    ],
)
def test_bad_kpi_ranges_answer_422(api, params):
    answer = api.get("/api/analytics/kpis", params=params)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input"


def test_read_scope_is_required(db):
    client = TestClient(create_app(db.settings(), engine=db.engine))
    assert client.get("/api/analytics/rfm").status_code == 401
    with transaction(db.sessions) as session:
        key = auth_service.create_key(session=session, name="t", scopes="track", now=utcnow())[1]
    answer = client.get("/api/analytics/rfm", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403
