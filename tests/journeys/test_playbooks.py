"""Playbooks: each validates and installs paused on both databases, once; API and CLI."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app
from patron.db import transaction, utcnow
from patron.journeys import playbooks, service, steps
from patron.journeys.tables import Journey
from patron.messages import service as messages
from tests.journeys.conftest import T0


def test_every_playbook_parses_with_placeholder_ids():
    ids = {k: 1 for k in ("new", "loyal", "occasional", "at_risk", "former", "ambassador")}
    for p in playbooks.PLAYBOOKS:
        templates = {key: n + 1 for n, (key, _s, _b) in enumerate(p.templates)}
        d = steps.parse(p.build(templates, ids))
        assert set(d.template_ids().values()) == set(templates.values()), p.name


def test_every_playbook_installs_paused_once(db):
    with transaction(db.sessions) as s:
        first = playbooks.install_all(session=s, now=T0)
        templates = len(messages.list_templates(session=s))
    assert {j.state for j in first} == {"paused"}
    assert len(first) == len(playbooks.PLAYBOOKS)
    with transaction(db.sessions) as s:
        again = playbooks.install_all(session=s, now=T0)
        assert [j.id for j in again] == [j.id for j in first]
        assert len(messages.list_templates(session=s)) == templates
        assert s.scalar(select(func.count()).select_from(Journey)) == len(playbooks.PLAYBOOKS)
        for j in again:  # stored definitions validate against the database, as an edit would
            raw = service.current_version(session=s, journey_id=j.id).definition
            service.validate(session=s, definition=raw)
        resumed = service.resume(session=s, journey_id=first[0].id, now=T0)
        assert resumed.state == "live"


def test_a_birthday_playbook_enrols_once_resumed(db):
    from patron.journeys import schedule
    from tests.journeys.conftest import enrolments, person

    with transaction(db.sessions) as s:
        person(s, "b", birthday="1990-03-02")
        journey, _ = playbooks.install(session=s, name="birthday", now=T0)
        service.resume(session=s, journey_id=journey.id, now=T0)
    with transaction(db.sessions) as s:
        assert schedule.run_scheduled(s, now=T0) == 1
    assert len(enrolments(db, journey.id)) == 1


def test_playbooks_through_the_api_and_cli(sqlite_db, monkeypatch):
    with transaction(sqlite_db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="read,write", now=utcnow())[1]
    client = TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine))
    headers = {"Authorization": f"Bearer {key}"}
    listed = client.get("/api/journeys/playbooks", headers=headers)
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()] == [p.name for p in playbooks.PLAYBOOKS]
    made = client.post("/api/journeys/playbooks/welcome", headers=headers)
    assert made.status_code == 201 and made.json()["state"] == "paused"
    again = client.post("/api/journeys/playbooks/welcome", headers=headers)
    assert again.status_code == 200 and again.json()["journey_id"] == made.json()["journey_id"]
    missing = client.post("/api/journeys/playbooks/nope", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]
    assert client.post("/api/journeys/playbooks/vip").status_code == 401
    monkeypatch.setenv("PATRON_DATABASE_URL", sqlite_db.url)
    runner = CliRunner()
    done = runner.invoke(app, ["journeys", "playbook", "birthday"])
    assert done.exit_code == 0 and "installed journey" in done.output, done.output
    shown = runner.invoke(app, ["journeys", "playbooks"])
    assert shown.exit_code == 0 and "birthday" in shown.output
    bad = runner.invoke(app, ["journeys", "playbook", "nope"])
    assert bad.exit_code != 0 and "error: no playbook" in bad.output
