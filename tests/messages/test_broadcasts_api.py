"""API and CLI of broadcasts: the whole life of one, and clear 4xx on bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from patron.cli import app
from patron.db import transaction, utcnow
from patron.messages import broadcasts
from patron.messages.tables import OutboxMessage
from tests.messages.conftest import NOW, customer, template
from tests.messages.test_api import api  # noqa: F401 - the fixture
from tests.messages.test_broadcasts import segment


def _setup(db):
    with transaction(db.sessions) as s:
        people = [customer(s, i) for i in range(3)]
        return segment(s, "all", people), segment(s, "one", people[:1]), template(s).id


def test_broadcast_life_through_the_api(db, api):  # noqa: F811
    client, headers = api
    everyone, one, template_id = _setup(db)
    body = {
        "name": "Spring",
        "template_id": template_id,
        "segment_ids": [everyone],
        "exclude_segment_ids": [one],
    }
    created = client.post("/api/broadcasts", json=body, headers=headers)
    assert created.status_code == 201, created.text
    bid = created.json()["id"]
    assert created.json()["state"] == "draft"
    count = client.get(f"/api/broadcasts/{bid}/count", headers=headers).json()
    assert count == {"members": 2, "consented": 2, "not_suppressed": 2, "within_cap": 2}
    later = (utcnow() + timedelta(days=1)).isoformat()
    scheduled = client.post(
        f"/api/broadcasts/{bid}/schedule", json={"send_at": later}, headers=headers
    )
    assert scheduled.json()["state"] == "scheduled"
    for _ in range(2):
        sent = client.post(f"/api/broadcasts/{bid}/send", headers=headers)
        assert sent.status_code == 200 and sent.json()["state"] == "sending"
        assert sent.json()["audience_size"] == 2
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    assert client.post(f"/api/broadcasts/{bid}/pause", headers=headers).json()["state"] == "paused"
    resumed = client.post(f"/api/broadcasts/{bid}/resume", headers=headers)
    assert resumed.json()["state"] == "sending"
    cancelled = client.post(f"/api/broadcasts/{bid}/cancel", headers=headers)
    assert cancelled.json()["state"] == "cancelled"
    report = client.get(f"/api/broadcasts/{bid}/report", headers=headers).json()
    assert report["skipped_by_reason"] == {"cancelled": 2}
    assert report["audience"] == 2 and report["sent"] == 0
    listed = client.get("/api/broadcasts", headers=headers).json()
    assert [b["id"] for b in listed["items"]] == [bid]


def test_bad_input_answers_4xx_with_a_message(db, api):  # noqa: F811
    client, headers = api
    everyone, _, template_id = _setup(db)
    missing = client.post(
        "/api/broadcasts",
        json={"name": "x", "template_id": template_id, "segment_ids": [999]},
        headers=headers,
    )
    assert missing.status_code in (400, 422) and "999" in missing.text
    assert client.get("/api/broadcasts/12345", headers=headers).status_code == 404
    bid = client.post(
        "/api/broadcasts",
        json={"name": "x", "template_id": template_id, "segment_ids": [everyone]},
        headers=headers,
    ).json()["id"]
    past = client.post(
        f"/api/broadcasts/{bid}/schedule",
        json={"send_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert past.status_code in (400, 422) and "future" in past.text
    paused = client.post(f"/api/broadcasts/{bid}/pause", headers=headers)
    assert paused.status_code in (400, 409, 422) and "draft" in paused.text


def test_cli_send_list_report(tmp_path):
    from patron.db import make_engine, make_sessionmaker
    from patron.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'patron.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        people = [customer(s, i) for i in range(2)]
        seg = segment(s, "all", people)
        b = broadcasts.create(s, name="CLI", template_id=template(s).id, segment_ids=[seg], now=NOW)
    engine.dispose()
    env = {"PATRON_DATABASE_URL": url, "PATRON_SECRET_KEY": "x"}
    run = lambda *args: CliRunner().invoke(app, [str(a) for a in args], env=env)  # noqa: E731
    first = run("broadcasts", "send", b.id)
    assert first.exit_code == 0, first.output
    assert "sending to 2 recipients" in first.output
    again = run("broadcasts", "send", b.id)
    assert again.exit_code == 0 and "already sending" in again.output
    listed = run("broadcasts", "list")
    assert "CLI" in listed.output and "sending" in listed.output
    report = run("broadcasts", "report", b.id)
    assert report.exit_code == 0 and "audience" in report.output
    missing = run("broadcasts", "report", 999)
    assert missing.exit_code == 2 and "no broadcast with id 999" in missing.output


def test_dashboard_wizard_refuses_bad_input_with_400_and_the_reason(db):
    from fastapi.testclient import TestClient

    from patron.app import create_app
    from patron.auth import service as auth_service
    from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login

    everyone, one, template_id = _setup(db)
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=NOW)
    with TestClient(create_app(db.settings(), engine=db.engine)) as page:
        assert login(page).status_code == 303
        wizard = page.get("/broadcasts/new")
        assert wizard.status_code == 200 and "Everyone" not in wizard.text
        token = csrf_of(wizard.text)
        count = page.get(f"/broadcasts/audience-count?include={everyone}&exclude={one}")
        assert count.json()["within_cap"] == 2
        bad = page.get("/broadcasts/audience-count?include=x")
        assert bad.status_code in (400, 422) and "numbers" in bad.text
        refused = page.post(
            "/broadcasts",
            data={"csrf_token": token, "name": "x", "template_id": template_id, "when": "now"},
        )
        assert refused.status_code == 400 and "at least one segment" in refused.text
        past = page.post(
            "/broadcasts",
            data={
                "csrf_token": token,
                "name": "x",
                "template_id": template_id,
                "segment_ids": everyone,
                "when": "at",
                "send_at": "2020-01-01T00:00",
            },
        )
        assert past.status_code == 400 and "future" in past.text
        assert page.get("/broadcasts/999").status_code == 404
