"""The customers list: a total, sorting, filters by stage, segment and consent, facet columns."""

from __future__ import annotations

import html as htmllib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.auth import service as auth_service
from patron.customers import service as customers_service
from patron.db import transaction
from patron.segments.tables import Segment
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.ux_shop import shop_client


@pytest.fixture
def shop(db):
    """A logged-in client on the scored shop, and customer ids by external id."""
    yield from shop_client(db)


def _rows(page: str) -> list[str]:
    """External ids (from emails) of the listed customers, in order."""
    body = page.split('data-testid="customers"')[1].split("</table>")[0]
    return [cell.split("@")[0] for cell in body.split("<td>")[1:] if "@example.com</td>" in cell]


def _total(page: str) -> str:
    """The total line above the list."""
    return page.split('data-testid="customer-total">')[1].split("</span>")[0]


def test_total_and_sorting(shop):
    client, _ids = shop
    page = client.get("/customers").text
    assert _total(page) == "6 customers"
    assert _rows(page) == ["c5", "c4", "c3", "c2", "c1", "c0"]
    assert _rows(client.get("/customers?sort=spent").text) == ["c5", "c2", "c3", "c4", "c1", "c0"]
    assert _rows(client.get("/customers?sort=last_order").text)[:5] == [
        "c5",
        "c4",
        "c3",
        "c2",
        "c1",
    ]
    # Ann Young, Bob Brown, Cy Xu, Di Ode, Eve Stone, Zoe Adams: by full name.
    assert _rows(client.get("/customers?sort=name").text) == ["c1", "c2", "c3", "c4", "c5", "c0"]
    bad = client.get("/customers?sort=height")
    assert bad.status_code == 422 and "sort: choose one of" in bad.text


def test_filters_by_stage_rfm_segment_and_consent_with_columns(shop, db):
    client, _ids = shop
    former = client.get("/customers?stage=former").text
    assert _rows(former) == ["c4", "c2"] and _total(former) == "2 customers match"
    assert 'data-column="stage">former' in former
    assert 'data-column="rfm">Loyal (RFM)' in former
    assert 'data-column="segment">Former customers' in former
    with db.sessions() as s:
        loyal = s.scalar(select(Segment.id).where(Segment.builtin_key == "loyal"))
    by_segment = client.get(f"/customers?segment={loyal}&sort=spent").text
    assert _rows(by_segment) == ["c5", "c3"]
    assert _rows(client.get("/customers?rfm=Loyal").text) == ["c3", "c2"]
    granted = client.get("/customers?consent=email:granted").text
    assert _rows(granted) == ["c0"] and _total(granted) == "1 customer match"
    assert len(_rows(client.get("/customers?consent=email:unknown").text)) == 5
    both = client.get("/customers?stage=loyal&rfm=Loyal&q=cy").text
    assert _rows(both) == ["c3"]
    for bad in ("stage=gold", "segment=abc", "consent=fax:granted", "segment=99999999999"):
        assert client.get(f"/customers?{bad}").status_code == 422
    page = client.get("/customers").text
    assert 'data-testid="filter-stage"' in page and '<option value="at_risk">at risk' in page


def test_sorted_filtered_pages_follow_the_one_cursor_to_the_end(db):
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for n in range(120):
            customers_service.upsert_customer(
                session=s, external_id=f"p{n}", now=factories.T0, profile={}
            )
            if n % 3:
                factories.order(s, f"o{n}", f"p{n}", total=100 * (n % 7))
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        login(client)
        _follow_and_check(client)


def _follow_and_check(client) -> None:
    """Follow next links of the spend-sorted list; check a cursor of another sort is refused."""
    seen, spent, url = [], [], "/customers?sort=spent"
    while url:
        html = client.get(url).text
        seen += [line.split('"')[0] for line in html.split('<a href="/customers/')[1:]]
        body = html.split('data-testid="customers"')[1].split("<tbody>")[1].split("</table>")[0]
        spent += [int(c.split("<")[0][1:].replace(".", "")) for c in body.split('num">')[2::2]]
        url = None
        if 'rel="next"' in html:
            url = htmllib.unescape(html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0])
            assert "sort=spent" in url
    assert len(seen) == 120 == len(set(seen))
    assert spent == sorted(spent, reverse=True) and spent[0] == 600
    first = client.get("/customers").text
    cursor = htmllib.unescape(first.split('rel="next"')[0].rsplit("cursor=", 1)[1].split('"')[0])
    mismatch = client.get("/customers", params={"sort": "name", "cursor": cursor})
    assert mismatch.status_code == 422 and "not valid for this sort" in mismatch.text
