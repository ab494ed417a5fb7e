"""The journeys API and CLI: a whole life, and 4xx naming the step for bad definitions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app
from patron.db import transaction, utcnow
from tests.journeys.conftest import person, template


@pytest.fixture
def api(db):
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes="read,write", now=utcnow())[1]
        read = auth_service.create_key(session=s, name="r", scopes="read", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    return client, {"Authorization": f"Bearer {key}"}, {"Authorization": f"Bearer {read}"}


def _definition(template_id: int) -> dict:
    return {
        "trigger": {"type": "api"},
        "start": "hello",
        "steps": [
            {"id": "hello", "type": "send", "template_id": template_id, "next": "wait"},
            {"id": "wait", "type": "wait", "seconds": 86400, "next": "bye"},
            {"id": "bye", "type": "exit"},
        ],
    }


def test_journey_life_through_the_api_and_cli(db, api, monkeypatch):
    client, headers, read_only = api
    with transaction(db.sessions) as s:
        cid, tid = person(s, "a").id, template(s).id
    created = client.post(
        "/api/journeys", json={"name": "Welcome", "definition": _definition(tid)}, headers=headers
    )
    assert created.status_code == 201, created.text
    jid = created.json()["id"]
    assert created.json()["state"] == "draft" and created.json()["version"] == 1
    draft = client.post(f"/api/journeys/{jid}/enrol", json={"customer_id": cid}, headers=headers)
    assert draft.status_code == 409
    assert client.post(f"/api/journeys/{jid}/resume", headers=headers).json()["state"] == "live"
    enrolled = client.post(f"/api/journeys/{jid}/enrol", json={"customer_id": cid}, headers=headers)
    assert enrolled.status_code == 200 and enrolled.json()["entered"] is True
    again = client.post(f"/api/journeys/{jid}/enrol", json={"customer_id": cid}, headers=headers)
    assert again.json()["entered"] is False
    assert again.json()["enrolment"]["id"] == enrolled.json()["enrolment"]["id"]
    edited = _definition(tid)
    edited["steps"][1]["seconds"] = 3600
    version = client.post(
        f"/api/journeys/{jid}/versions", json={"definition": edited}, headers=headers
    )
    assert version.json()["version"] == 2
    got = client.get(f"/api/journeys/{jid}", headers=read_only).json()
    assert got["definition"]["steps"][1]["seconds"] == 3600 and got["enrolments"] == {"active": 1}
    listed = client.get("/api/journeys", headers=read_only).json()
    assert [j["name"] for j in listed["items"]] == ["Welcome"]
    assert client.post(f"/api/journeys/{jid}/pause", headers=read_only).status_code == 403
    assert client.post(f"/api/journeys/{jid}/pause", headers=headers).json()["state"] == "paused"
    assert client.post(f"/api/journeys/{jid}/archive", headers=headers).json()["state"] == (
        "archived"
    )
    monkeypatch.setenv("PATRON_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["journeys", "list"])
    assert result.exit_code == 0, result.output
    assert "Welcome" in result.output and "exited 1" in result.output


def test_bad_definitions_are_422_naming_the_step(db, api):
    client, headers, _ = api
    with transaction(db.sessions) as s:
        tid = template(s).id
    missing = _definition(tid + 100)
    answer = client.post(
        "/api/journeys", json={"name": "x", "definition": missing}, headers=headers
    )
    assert answer.status_code == 422
    assert answer.json()["details"] == [
        {"step": "hello", "message": f"template_id: template {tid + 100} does not exist"}
    ]
    lost = _definition(tid)
    lost["steps"].append({"id": "orphan", "type": "exit"})
    answer = client.post("/api/journeys", json={"name": "x", "definition": lost}, headers=headers)
    assert answer.status_code == 422 and "step orphan: unreachable" in answer.json()["message"]
    bad_rules = _definition(tid)
    bad_rules["steps"][2] = {
        "id": "bye",
        "type": "branch",
        "rules": {"type": "?"},
        "yes": "hello",
        "no": "wait",
    }
    answer = client.post(
        "/api/journeys", json={"name": "x", "definition": bad_rules}, headers=headers
    )
    assert answer.status_code == 422 and answer.json()["details"][0]["step"] == "bye"
    assert client.get("/api/journeys/999", headers=headers).status_code == 404
