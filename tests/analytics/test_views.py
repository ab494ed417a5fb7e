"""Dashboard pages of analytics render after login, on both databases."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from patron.analytics.refresh import refresh
from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from tests.analytics.shop import load_shop, simulated_sales
from tests.factories import at

PAGES = ("/analytics", "/analytics/rfm", "/analytics/cohorts", "/analytics/clv", "/analytics/churn")


@pytest.fixture
def client(db) -> TestClient:
    """A logged-in dashboard client."""
    with transaction(db.sessions) as session:
        auth_service.create_user(
            session=session, email="a@example.com", password="correct horse", now=utcnow()
        )
    client = TestClient(create_app(db.settings(), engine=db.engine))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    answer = client.post(
        "/login",
        data={
            "email": "a@example.com",
            "password": "correct horse",
            "csrf_token": token,
            "next": "/",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return client


def test_pages_need_login(db):
    client = TestClient(create_app(db.settings(), engine=db.engine))
    answer = client.get("/analytics/rfm", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_pages_render_before_any_refresh(client):
    for page in PAGES:
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert "patron refresh" in answer.text


def test_pages_render_with_scores(client, db):
    with transaction(db.sessions) as session:
        ids = load_shop(session, simulated_sales(120, seed=4))
    refresh(sessions=db.sessions, now=at(366))
    kpis = client.get("/analytics", params={"start": "2025-10-01", "end": "2025-12-31"})
    assert kpis.status_code == 200 and "Retention rate" in kpis.text
    assert "(E − N) / S" in kpis.text
    rfm = client.get("/analytics/rfm").text
    assert 'data-testid="rfm-grid"' in rfm and "Champions" in rfm
    cohorts = client.get("/analytics/cohorts", params={"months": 36}).text
    assert 'data-testid="cohorts"' in cohorts and "background: rgba" in cohorts
    clv = client.get("/analytics/clv").text
    assert "<svg" in clv and "<script" not in clv and 'data-testid="model-fit"' in clv
    churn = client.get("/analytics/churn").text
    assert re.search(r'href="/customers/\d+"', churn)
    detail = client.get(f"/customers/{ids['s0001']}")
    assert detail.status_code == 200 and 'data-testid="insights"' in detail.text


def test_bad_range_shows_an_error(client):
    answer = client.get("/analytics", params={"start": "2025-02-01", "end": "2025-01-01"})
    assert answer.status_code == 422 and "before start" in answer.text
    answer = client.get("/analytics", params={"start": "soon"})
    assert answer.status_code == 422 and "YYYY-MM-DD" in answer.text
