"""Dashboard pages of journeys: the list with state moves, the builder's save, errors, dry run."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.journeys import service
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login
from tests.journeys.conftest import template
from tests.journeys.test_dryrun import seed, winback


@pytest.fixture
def page(db) -> TestClient:
    """A logged-in dashboard client."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        yield client


def _data(html: str) -> dict:
    return json.loads(html.split('id="journey-data">')[1].split("</script>")[0])


def test_save_list_move_and_dry_run(db, page):
    ids, (first, second) = seed(db, utcnow() - timedelta(days=20))
    html = page.get("/journeys/new").text
    token = csrf_of(html)
    data = _data(html)
    assert "/static/journeys.js" in html and "send" in data["step_types"]
    assert "segment_entered" in data["trigger_types"]
    assert [t["name"] for t in data["templates"]] == ["first offer", "second offer"]
    form = {
        "csrf_token": token,
        "name": "Win-back",
        "definition": json.dumps(winback(first, second)),
    }
    saved = page.post("/journeys", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    jid = int(saved.headers["location"].split("/")[2])
    listed = page.get("/journeys").text
    assert "Win-back" in listed and "draft" in listed and 'href="/journeys"' in listed
    assert page.post(f"/journeys/{jid}/state", data={"action": "resume"}).status_code == 403
    moved = page.post(f"/journeys/{jid}/state", data={"action": "resume", "csrf_token": token})
    assert moved.status_code == 200 and "is live" in moved.text
    with transaction(db.sessions) as s:
        assert service.get_journey(session=s, journey_id=jid).state == "live"
        service.enrol(session=s, journey_id=jid, customer_id=ids[4], now=utcnow())
    edit = _data(page.get(f"/journeys/{jid}/edit").text)
    assert edit["counts"] == {"offer": {"active": 1}} and edit["journey_id"] == jid
    assert edit["definition"] == winback(first, second)
    dry = page.post(
        "/journeys/dry-run",
        json={"definition": winback(first, second), "journey_id": jid, "days": 30},
        headers={"X-CSRF-Token": token},
    )
    assert dry.status_code == 200 and dry.json()["entered"] == 4
    assert page.post("/journeys/dry-run", json={"days": 30}).status_code == 403


def test_a_refused_definition_names_the_step(db, page):
    with transaction(db.sessions) as s:
        tid = template(s).id
    bad = winback(tid, tid + 100)
    token = csrf_of(page.get("/journeys/new").text)
    form = {"csrf_token": token, "name": "Bad", "definition": json.dumps(bad)}
    refused = page.post("/journeys", data=form)
    assert refused.status_code == 422
    errors = _data(refused.text)["errors"]
    assert [e["step"] for e in errors] == ["bigger"]
    assert _data(refused.text)["definition"] == bad  # the builder keeps what was composed
    junk = page.post("/journeys", data={**form, "definition": "not json"})
    assert junk.status_code == 422 and "reload the page" in junk.text
