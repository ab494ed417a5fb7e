"""One cursor pagination: every list walked to its end reaches each row once; bad cursors 422."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service as customers_service
from patron.db import transaction, utcnow
from patron.errors import InvalidInput
from patron.web import pagination
from tests.dashboard.conftest import login


def test_cursor_round_trips_ids_and_timestamps():
    moment = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    assert pagination.decode(pagination.encode(moment, 7)) == pagination.Position(moment, 7)
    assert pagination.decode(pagination.encode(12, 12)) == pagination.Position(12, 12)
    assert pagination.decode(None) is None and pagination.decode("") is None


@pytest.mark.parametrize(
    "garbage", ["not-a-cursor!", "AAAA", "W10", "eyJhIjoxfQ", "WzEsIngiXQ", "WzEsdHJ1ZV0", "%%%"]
)
def test_garbage_cursors_are_invalid_input(garbage):
    with pytest.raises(InvalidInput):
        pagination.decode(garbage)


def test_page_splits_and_stops():
    rows = list(range(1, 8))
    first = pagination.page(rows[:4], 3, key=lambda r: (r, r))
    assert first["items"] == [1, 2, 3] and pagination.decode(first["next_cursor"]).id == 3
    assert pagination.page(rows[:3], 3, key=lambda r: (r, r))["next_cursor"] is None
    assert pagination.clamp_limit(0) == 1 and pagination.clamp_limit(10_000) == 500


def _walk(get, params: dict, next_of) -> list[list]:
    """Follow a list's cursors to the end; returns every page's items."""
    pages, cursor = [], None
    while True:
        body = get({**params, **({"cursor": cursor} if cursor else {})})
        pages.append(body["items"])
        cursor = next_of(body)
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


def _next(body: dict) -> str | None:
    """The cursor of an API page."""
    return body["next_cursor"]


@pytest.fixture
def api(db) -> TestClient:
    """A client holding a write key, with 11 customers, each with one order."""
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="write", now=utcnow())[1]
    api_client = TestClient(create_app(db.settings(), engine=db.engine))
    api_client.headers["Authorization"] = f"Bearer {key}"
    for n in range(11):
        api_client.post("/api/customers", json={"external_id": f"c{n}"})
        api_client.put(f"/api/products/SKU-{n}", json={"name": f"P{n}", "price_cents": 100})
        order = {
            "external_id": f"o{n}",
            "customer_external_id": f"c{n}",
            "placed_at": "2025-03-01T10:00:00+00:00",
            "total_cents": 100 + n,
        }
        assert api_client.post("/api/orders", json=order).status_code == 201
    return api_client


@pytest.mark.parametrize("path", ["/api/customers", "/api/products", "/api/orders"])
def test_every_api_list_reaches_each_row_once(api, path):
    pages = _walk(lambda p: api.get(path, params=p).json(), {"limit": 4}, _next)
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == 11 == len(set(ids)) and ids == sorted(ids)
    assert [len(p) for p in pages] == [4, 4, 3]
    bad = api.get(path, params={"cursor": "garbage!"})
    assert bad.status_code == 422 and "cursor" in bad.json()["message"]


def test_segment_members_page_with_the_same_cursor(api):
    rules = {"type": "purchase", "field": "order_count", "op": "gte", "value": 1}
    segment = api.post("/api/segments", json={"name": "All", "rules": rules}).json()
    path = f"/api/segments/{segment['id']}/members"
    pages = _walk(lambda p: api.get(path, params=p).json(), {"limit": 5}, _next)
    ids = [m["id"] for page in pages for m in page]
    assert len(ids) == len(set(ids)) == segment["member_count"] == 11
    assert api.get(path, params={"cursor": "nope"}).status_code == 422


def test_dashboard_customer_list_follows_next_links_to_the_end(client, db):
    with transaction(db.sessions) as s:
        for n in range(120):
            customers_service.upsert_customer(
                session=s, external_id=f"c{n}", now=utcnow(), profile={}
            )
    login(client)
    seen, url = [], "/customers"
    while url:
        html = client.get(url).text
        seen += [line.split("</a>")[0] for line in html.split('<a href="/customers/')[1:]]
        url = None
        if 'rel="next"' in html:
            url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
            url = url.replace("&amp;", "&")
            assert "cursor=" in url
    ids = [s.split('">')[0] for s in seen]
    assert len(ids) == 120 == len(set(ids))
    bad = client.get("/customers", params={"cursor": "garbage!"})
    assert bad.status_code == 422
    browser = client.get("/customers?cursor=garbage!", headers={"Accept": "text/html"})
    assert browser.status_code == 422 and "cursor is not valid" in browser.text
