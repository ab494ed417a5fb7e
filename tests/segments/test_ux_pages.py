"""Issue 8, marketer UX: the builder's units and pick lists, own values, links from analytics."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest
from sqlalchemy import select

from patron.segments.catalogue import members_text
from patron.segments.tables import Segment
from tests.dashboard.conftest import csrf_of
from tests.ux_shop import shop_client


@pytest.fixture
def shop(db):
    """A logged-in client on the scored shop, and customer ids by external id."""
    yield from shop_client(db)


def _data(page: str) -> dict:
    """The builder's JSON island."""
    return json.loads(page.split('id="segment-data">')[1].split("</script>")[0])


def _entry(data: dict, key: str) -> dict:
    """One catalogue entry by key."""
    return next(e for e in data["catalogue"]["conditions"] if e["key"] == key)


def _value(entry: dict) -> dict:
    """The value parameter of an entry."""
    return next(p for p in entry["params"] if p["name"] == "value")


def test_builder_offers_currency_percent_and_pick_lists_and_no_error(shop):
    client, _ids = shop
    page = client.get("/segments/new").text
    data = _data(page)
    assert _value(_entry(data, "purchase.total_spent_cents"))["unit"] == "money"
    assert _value(_entry(data, "purchase.average_order_cents"))["unit"] == "money"
    assert _value(_entry(data, "score.predicted_clv_cents"))["unit"] == "money"
    assert _value(_entry(data, "score.churn_risk"))["unit"] == "percent"
    assert _value(_entry(data, "score.p_alive"))["unit"] == "percent"
    assert not any("(cents)" in e["label"] for e in data["catalogue"]["conditions"])
    stages = _value(_entry(data, "score.lifecycle_stage"))["options"]
    assert ["at_risk", "at risk"] in stages and ["former", "former"] in stages
    rfm = _value(_entry(data, "score.rfm_segment"))["options"]
    assert ["Loyal", "Loyal (RFM)"] in rfm and ["Can't lose them", "Can't lose them"] in rfm
    assert _value(_entry(data, "score.fm_score"))["options"][0] == [1, "1"]
    assert "lifecycle" in _entry(data, "score.rfm_segment")["help"]
    assert 'data-testid="save-error"' not in page and "needs at least one rule" not in page


def test_preview_explains_with_the_customers_own_values(shop):
    client, ids = shop
    token = csrf_of(client.get("/segments/new").text)
    rules = {
        "type": "and",
        "children": [
            {"type": "score", "field": "churn_risk", "op": "gte", "value": 0.5},
            {"type": "purchase", "field": "total_spent_cents", "op": "gte", "value": 5000},
        ],
    }
    body = client.post(
        "/segments/preview", json={"rules": rules}, headers={"X-CSRF-Token": token}
    ).json()
    assert body["count"] == 1
    (only,) = body["customers"]
    assert only["id"] == ids["c2"]
    assert only["reasons"] == [
        "Churn risk ≥ 50% (theirs: 99.9%)",
        "Total spent ≥ 50.00 (theirs: 90.00)",
    ]


def test_member_counts_use_thousands_separators():
    assert members_text(1130) == "1,130 members" and members_text(1) == "1 member"


def _cell_form(page: str, r: int, fm: int) -> tuple[dict, str]:
    """The hidden fields and the shown count of one RFM grid cell's form."""
    testid = f'data-testid="rfm-cell-{r}-{fm}"'
    form = page[: page.index(testid)].rsplit("<form", 1)[1]
    pairs = re.findall(r"""name="(\w+)" value=(?:"([^"]*)"|'([^']*)')""", form)
    fields = {name: double or single for name, double, single in pairs}
    count = page[page.index(testid) :].split(">", 1)[1].split("<", 1)[0]
    return {k: htmllib.unescape(v) for k, v in fields.items()}, count


def test_rfm_cell_creates_then_opens_its_segment_with_the_cell_count(shop, db):
    client, _ids = shop
    page = client.get("/analytics/rfm").text
    fields, shown = _cell_form(page, 3, 4)
    assert shown == "2"
    assert json.loads(fields["rules"])["children"][1] == {
        "type": "score",
        "field": "fm_score",
        "op": "eq",
        "value": 4,
    }
    assert client.post("/segments/open", data={**fields, "csrf_token": "x"}).status_code == 403
    created = client.post("/segments/open", data=fields, follow_redirects=False)
    assert created.status_code == 303
    location = created.headers["location"]
    opened = client.get(location).text
    assert "created: 2 members" in opened
    again = client.post("/segments/open", data=fields, follow_redirects=False)
    assert again.headers["location"] == location
    assert "opened: 2 members" in client.get(location).text
    with db.sessions() as s:
        segment = s.scalar(select(Segment).where(Segment.name.like("RFM R3 FM4%")))
        assert segment.member_count == 2 and segment.name == "RFM R3 FM4 · Loyal (RFM)"


def test_rfm_page_explains_the_two_loyals(shop):
    client, _ids = shop
    page = client.get("/analytics/rfm").text
    assert "Loyal (RFM)" in page and 'data-testid="loyal-help"' in page
    assert "lifecycle" in page.split('data-testid="loyal-help">')[1].split("</p>")[0]


def _link(page: str, testid: str) -> str:
    """The href of the link with a data-testid."""
    tag = page[: page.index(f'data-testid="{testid}"')].rsplit("<a ", 1)[1]
    return htmllib.unescape(tag.split('href="', 1)[1].split('"', 1)[0])


def test_clv_decile_and_churn_stage_links_open_the_builtin_segments(shop, db):
    client, _ids = shop
    top = client.get(_link(client.get("/analytics/clv").text, "clv-decile-10"))
    with db.sessions() as s:
        high = s.scalar(select(Segment).where(Segment.builtin_key == "high_value"))
        former = s.scalar(select(Segment).where(Segment.builtin_key == "former"))
    assert top.url.path == f"/segments/{high.id}" and high.member_count == 2
    churn = client.get("/analytics/churn").text
    row = churn.split("c2@example.com")[1].split("</tr>")[0]
    stage_href = htmllib.unescape(row.split('href="', 1)[1].split('"', 1)[0])
    assert stage_href.startswith("/segments/open?")
    assert client.get(stage_href).url.path == f"/segments/{former.id}"


def test_churn_list_opens_the_builder_prefilled_with_its_rule(shop):
    client, _ids = shop
    churn = client.get("/analytics/churn").text
    assert "Loyal (RFM)" in churn and "former" in churn
    answer = client.get(_link(churn, "churn-segment"))
    assert answer.url.path == "/segments/new"
    data = _data(answer.text)
    assert data["rules"]["children"][0] == {
        "type": "score",
        "field": "churn_risk",
        "op": "gte",
        "value": 0.5,
    }
    assert 'value="Likely lost, spent at least $' in answer.text
    bad = client.get("/segments/new", params={"rules": "{not json"})
    assert bad.status_code == 422 and "no valid rules" in bad.text


def test_customer_page_shows_their_segments_and_explains_loyal(shop):
    client, ids = shop
    page = client.get(f"/customers/{ids['c2']}").text
    panel = page.split('data-testid="customer-segments"')[1].split("</section>")[0]
    assert "Former customers" in panel and "Loyal customers" not in panel
    assert "Loyal (RFM)" in page and 'data-testid="loyal-help"' in page
    empty = client.get(f"/customers/{ids['c0']}").text
    assert "In no saved segment yet" in empty
