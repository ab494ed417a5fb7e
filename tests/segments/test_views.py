"""Dashboard pages of segments: list, builder, live preview, save, delete, export."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login

GOLD = {
    "type": "and",
    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
}


@pytest.fixture
def page(db) -> TestClient:
    """A logged-in dashboard client on a database with two gold customers of three."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for i in range(3):
            factories.customer(s, f"c{i}", attributes={"plan": "gold" if i else "free"})
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        yield client


def test_builder_previews_and_saves(page):
    html = page.get("/segments/new").text
    token = csrf_of(html)
    assert 'id="segment-builder"' in html and "/static/segments.js" in html
    data = json.loads(html.split('id="segment-data">')[1].split("</script>")[0])
    assert any(c["key"] == "purchase.order_count" for c in data["catalogue"]["conditions"])
    preview = page.post("/segments/preview", json={"rules": GOLD}, headers={"X-CSRF-Token": token})
    assert preview.json()["count"] == 2
    assert page.post("/segments/preview", json={"rules": GOLD}).status_code == 403
    bad = page.post(
        "/segments/preview",
        json={"rules": {"type": "and", "children": []}},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["path"] == "rules.children"
    saved = page.post(
        "/segments",
        data={"csrf_token": token, "name": "Gold", "description": "", "rules": json.dumps(GOLD)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    edit = page.get(saved.headers["location"]).text
    assert "Segment Gold saved: 2 members." in edit
    listing = page.get("/segments").text
    assert "Gold" in listing and "attribute plan is gold" in listing and "New customers" in listing
    export = page.get(saved.headers["location"] + "/export.csv?audience=all")
    assert export.text.count("\n") == 3


def test_invalid_save_shows_the_path_and_keeps_the_form(page):
    token = csrf_of(page.get("/segments/new").text)
    rules = {
        "type": "and",
        "children": [{"type": "purchase", "field": "order_count", "op": "gte", "value": -4}],
    }
    answer = page.post(
        "/segments", data={"csrf_token": token, "name": "Bad", "rules": json.dumps(rules)}
    )
    assert answer.status_code == 422
    assert "rules.children[0].value" in answer.text and 'value="Bad"' in answer.text
    assert (
        page.post("/segments", data={"csrf_token": "nope", "name": "x", "rules": "{}"}).status_code
        == 403
    )


def test_edit_and_delete(page):
    token = csrf_of(page.get("/segments/new").text)
    created = page.post(
        "/segments", data={"csrf_token": token, "name": "Gold", "rules": json.dumps(GOLD)}
    )
    location = str(created.url.path)
    sid = int(location.rsplit("/", 1)[1])
    changed = page.post(
        location,
        data={
            "csrf_token": token,
            "name": "Gold 2",
            "rules": json.dumps({"type": "not", "children": GOLD["children"]}),
        },
    )
    assert "Segment saved: 1 member." in changed.text
    assert page.get("/segments/99999").status_code == 404
    gone = page.post(f"/segments/{sid}/delete", data={"csrf_token": token})
    assert "Segment deleted." in gone.text and "Gold 2" not in gone.text
