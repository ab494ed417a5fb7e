"""Segment exports respect consent: only who may be contacted, unless another audience is asked.

One segment of five gold members whose email consent is granted (two), denied, unsubscribed
and never recorded (unknown); one of the granted also granted SMS. Every way out (service,
REST API, dashboard page and link, CLI) exports only the two by default.
"""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from typer.testing import CliRunner

from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app as cli_app
from patron.customers.read import Customer
from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.errors import InvalidInput
from patron.migrate import upgrade
from patron.segments import exports, service
from patron.segments.audience import Audience, audience_of
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login

GOLD = {
    "type": "and",
    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
}
EMAIL_CONSENT = {
    "g1": {"email": "granted", "sms": "granted"},
    "d1": {"email": "denied"},
    "u1": {"email": "unsubscribed", "sms": "granted"},
    "n1": {},
    "g2": {"email": "granted", "push": "denied"},
}
HEADER = [
    "customer_id",
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "entered_at",
    "email_consent",
    "sms_consent",
    "push_consent",
]


def _seed(session) -> int:
    """Five gold members with mixed consent, one free customer; returns the segment id."""
    for external_id, consent in EMAIL_CONSENT.items():
        factories.customer(
            session,
            external_id,
            email=f"{external_id}@example.com",
            phone="+15550100",
            attributes={"plan": "gold"},
            consent=consent,
        )
    factories.customer(session, "free", attributes={"plan": "free"}, consent={"email": "granted"})
    return service.create_segment(session=session, name="Gold", rules_json=GOLD, now=utcnow()).id


def _rows(text: str) -> list[dict]:
    """The CSV text as dicts, checking the header first."""
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames[: len(HEADER)] == HEADER
    return list(reader)


def _ids(rows: list[dict]) -> list[str]:
    return [row["external_id"] for row in rows]


def test_service_exports_only_granted_by_default_with_consent_columns(db):
    with transaction(db.sessions) as s:
        sid = _seed(s)
        default = "".join(exports.export_csv(session=s, segment_id=sid, audience=Audience()))
        everyone = "".join(
            exports.export_csv(session=s, segment_id=sid, audience=Audience("email", "all"))
        )
        others = "".join(
            exports.export_csv(
                session=s, segment_id=sid, audience=Audience("email", "not_contactable"), batch=1
            )
        )
        texted = "".join(
            exports.export_csv(session=s, segment_id=sid, audience=audience_of("sms"), batch=1)
        )
        counts = exports.audience_counts(session=s, segment_id=sid)
    rows = _rows(default)
    assert _ids(rows) == ["g1", "g2"]
    assert list(rows[0])[-1] == "contactable_on_email"
    assert rows[0]["email_consent"] == "granted" and rows[0]["sms_consent"] == "granted"
    assert rows[1]["push_consent"] == "denied" and rows[1]["sms_consent"] == "unknown"
    assert rows[0]["phone"] == "+15550100"  # an SMS tool needs the plus sign
    all_rows = {row["external_id"]: row for row in _rows(everyone)}
    assert sorted(all_rows) == ["d1", "g1", "g2", "n1", "u1"]
    assert {k: r["email_consent"] for k, r in all_rows.items()} == {
        "g1": "granted",
        "d1": "denied",
        "u1": "unsubscribed",
        "n1": "unknown",
        "g2": "granted",
    }
    assert {k for k, r in all_rows.items() if r["contactable_on_email"] == "true"} == {"g1", "g2"}
    assert sorted(_ids(_rows(others))) == ["d1", "n1", "u1"]
    sms = _rows(texted)
    assert _ids(sms) == ["g1", "u1"] and list(sms[0])[-1] == "contactable_on_sms"
    assert counts == {"members": 5, "contactable": {"email": 2, "sms": 2, "push": 0}}


def test_counts_match_the_export_when_a_member_was_deleted(db):
    with transaction(db.sessions) as s:
        sid = _seed(s)
        s.execute(delete(Customer).where(Customer.external_id == "g1"))
        counts = exports.audience_counts(session=s, segment_id=sid)
        text = "".join(exports.export_csv(session=s, segment_id=sid, audience=Audience()))
    assert counts["members"] == 4 and counts["contactable"]["email"] == 1
    assert _ids(_rows(text)) == ["g2"]


def test_unknown_channel_or_audience_is_refused():
    with pytest.raises(InvalidInput, match="channel must be one of email, sms, push"):
        audience_of("fax")
    with pytest.raises(InvalidInput, match="audience must be one of contactable, all"):
        audience_of("email", "everyone")
    assert audience_of(None, "").filename(12) == "segment-12-email-contactable.csv"
    assert Audience("sms", "not_contactable").filename(3) == "segment-3-sms-not-contactable.csv"


@pytest.fixture
def api(db) -> tuple[TestClient, int]:
    """A client holding a read key, and the seeded segment's id."""
    with transaction(db.sessions) as s:
        sid = _seed(s)
        key = auth_service.create_key(session=s, name="t", scopes="read", now=utcnow())[1]
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client, sid


def test_api_export_defaults_to_who_may_be_emailed_and_names_the_audience(api):
    client, sid = api
    answer = client.get(f"/api/segments/{sid}/export")
    assert answer.status_code == 200, answer.text
    disposition = answer.headers["content-disposition"]
    assert f'filename="segment-{sid}-email-contactable.csv"' in disposition
    assert answer.headers["x-patron-audience"] == "contactable"
    assert answer.headers["x-patron-channel"] == "email"
    assert (answer.headers["x-patron-rows"], answer.headers["x-patron-members"]) == ("2", "5")
    assert _ids(_rows(answer.text)) == ["g1", "g2"]
    everyone = client.get(f"/api/segments/{sid}/export", params={"audience": "all"})
    assert f"segment-{sid}-email-all.csv" in everyone.headers["content-disposition"]
    assert sorted(_ids(_rows(everyone.text))) == ["d1", "g1", "g2", "n1", "u1"]
    others = client.get(
        f"/api/segments/{sid}/export", params={"audience": "not_contactable", "channel": "push"}
    )
    assert others.headers["x-patron-audience"] == "not_contactable"
    assert len(_rows(others.text)) == 5


def test_api_refuses_an_unknown_audience_and_documents_the_choices(api):
    client, sid = api
    bad = client.get(f"/api/segments/{sid}/export", params={"audience": "everyone"})
    assert bad.status_code == 422
    assert bad.json()["details"] == [
        {"path": "audience", "message": "audience must be one of contactable, all, not_contactable"}
    ]
    assert client.get(f"/api/segments/{sid}/export", params={"channel": "fax"}).status_code == 422
    operation = client.get("/openapi.json").json()["paths"]["/api/segments/{segment_id}/export"]
    params = {p["name"]: p["schema"] for p in operation["get"]["parameters"]}
    assert params["audience"]["enum"] == ["contactable", "all", "not_contactable"]
    assert params["audience"]["default"] == "contactable"
    assert params["channel"]["enum"] == ["email", "sms", "push"]


@pytest.fixture
def page(db) -> tuple[TestClient, int]:
    """A logged-in dashboard client, and the seeded segment's id."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        sid = _seed(s)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        yield client, sid


def test_segment_page_shows_who_may_be_contacted_and_its_link_exports_them(page):
    client, sid = page
    html = client.get(f"/segments/{sid}").text
    assert "5 members, 2 may be emailed, 2 may be texted, 0 may get push messages." in html
    assert f'action="/segments/{sid}/export.csv"' in html
    assert '<option value="all">' in html and '<option value="contactable" selected>' in html
    assert f'href="/segments/{sid}/export.csv"' in client.get("/segments").text
    default = client.get(f"/segments/{sid}/export.csv")
    assert f"segment-{sid}-email-contactable.csv" in default.headers["content-disposition"]
    assert _ids(_rows(default.text)) == ["g1", "g2"]
    chosen = client.get(
        f"/segments/{sid}/export.csv", params={"channel": "sms", "audience": "contactable"}
    )
    assert _ids(_rows(chosen.text)) == ["g1", "u1"]
    everyone = client.get(f"/segments/{sid}/export.csv", params={"audience": "all"})
    assert len(_rows(everyone.text)) == 5


def test_page_counts_use_thousands_separators(db):
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for i in range(1130):
            consent = {"email": "granted"} if i < 1005 else {}
            factories.customer(s, f"c{i}", attributes={"plan": "gold"}, consent=consent)
        sid = service.create_segment(session=s, name="Gold", rules_json=GOLD, now=utcnow()).id
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        assert "1,130 members, 1,005 may be emailed" in client.get(f"/segments/{sid}").text


@pytest.fixture
def run(tmp_path):
    """Run `patron` against a SQLite file holding the seeded segment."""
    url = f"sqlite:///{tmp_path / 'patron.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        _seed(s)
    engine.dispose()
    env = {"PATRON_DATABASE_URL": url, "PATRON_SECRET_KEY": "x"}
    return lambda *args: CliRunner().invoke(cli_app, [str(a) for a in args], env=env)


def test_cli_exports_who_may_be_emailed_and_says_so(run, tmp_path):
    target = tmp_path / "out.csv"
    result = run("segments", "export", "1", "--output", target)
    assert result.exit_code == 0, result.output
    assert _ids(_rows(target.read_text())) == ["g1", "g2"]
    assert "segment 1: exported 2 of 5 members: members who may be contacted on email" in (
        result.stderr
    )
    everyone = run("segments", "export", "1", "--audience", "all")
    assert everyone.exit_code == 0, everyone.output
    assert sorted(_ids(_rows(everyone.stdout))) == ["d1", "g1", "g2", "n1", "u1"]
    assert "exported 5 of 5 members: all members" in everyone.stderr
    texted = run("segments", "export", "1", "--channel", "sms", "--audience", "not_contactable")
    assert sorted(_ids(_rows(texted.stdout))) == ["d1", "g2", "n1"]


def test_cli_refuses_an_unknown_audience_in_one_line(run):
    result = run("segments", "export", "1", "--audience", "everyone")
    assert result.exit_code == 2
    assert "error: audience: audience must be one of contactable, all, not_contactable" in (
        result.output
    )
    assert "Traceback" not in result.output
