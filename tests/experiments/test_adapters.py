"""API, CLI and dashboard pages of experiments on one SQLite database each."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from typer.testing import CliRunner

from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app as cli_app
from patron.db import transaction, utcnow
from patron.experiments import service
from patron.experiments.tables import Exposure
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.experiments.conftest import audience, buy
from tests.messages.conftest import NOW


def _key(db, scopes: str) -> dict:
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="t", scopes=scopes, now=utcnow())[1]
    return {"Authorization": f"Bearer {key}"}


def _body(setup: dict, **fields) -> dict:
    body = {
        "name": "Subject test",
        "kind": "broadcast",
        "segment_ids": [setup["segment"]],
        "holdout_percent": 10,
        "arms": [
            {"key": "A", "percent": 50, "template_id": setup["a"]},
            {"key": "B", "percent": 50, "template_id": setup["b"]},
        ],
    }
    body.update(fields)
    return body


def test_api_create_start_report_and_refusals(sqlite_db):
    db = sqlite_db
    setup = audience(db, 30)
    client = TestClient(create_app(db.settings(), engine=db.engine))
    write, read = _key(db, "write"), _key(db, "read")
    assert client.post("/api/experiments", json=_body(setup), headers=read).status_code == 403
    bad = client.post(
        "/api/experiments",
        json=_body(
            setup,
            arms=[
                {"key": "A", "percent": 40, "template_id": setup["a"]},
                {"key": "B", "percent": 50, "template_id": setup["b"]},
            ],
        ),
        headers=write,
    )
    assert bad.status_code == 422 and "sum to 100" in bad.json()["message"]
    missing = client.post("/api/experiments", json=_body(setup, segment_ids=[77]), headers=write)
    assert missing.status_code == 422 and "no segment with id 77" in missing.json()["message"]
    created = client.post("/api/experiments", json=_body(setup), headers=write)
    assert created.status_code == 201, created.text
    eid = created.json()["id"]
    started = client.post(f"/api/experiments/{eid}/start", headers=write)
    assert started.status_code == 200 and started.json()["state"] == "testing"
    again = client.post(f"/api/experiments/{eid}/start", headers=write)
    assert again.status_code == 422 and "testing experiment cannot start" in again.text
    report = client.get(f"/api/experiments/{eid}/report", headers=read).json()
    assert sum(a["recipients"] for a in report["arms"]) == 30
    assert "too early" in report["verdict"]["text"] and report["srm"]["mismatch"] is False
    assert [e["id"] for e in client.get("/api/experiments", headers=read).json()] == [eid]
    assert client.get("/api/experiments/99/report", headers=read).status_code == 404
    stopped = client.post(f"/api/experiments/{eid}/stop", headers=write)
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    assert client.post(f"/api/experiments/{eid}/stop", headers=write).status_code == 422
    programme = client.get("/api/experiments/holdout", headers=read).json()
    assert programme["customers"] == 30 and programme["incrementality"] is None


def _decided(db, n: int = 80) -> int:
    """A decided experiment where B's recipients bought more."""
    setup = audience(db, n)
    arms = [
        {"key": "A", "percent": 50, "template_id": setup["a"]},
        {"key": "B", "percent": 50, "template_id": setup["b"]},
    ]
    with transaction(db.sessions) as s:
        row = service.create(
            s,
            name="Offer test",
            kind="broadcast",
            arms=arms,
            segment_ids=[setup["segment"]],
            holdout_percent=10,
            salt="views",
            now=NOW,
        )
        service.start(s, experiment_id=row.id, now=NOW)
        exposed = s.execute(select(Exposure.customer_id, Exposure.arm)).all()
        for customer_id, arm in exposed:
            if arm == "B" or customer_id % 4 == 0:
                buy(s, customer_id, 1, total=2000 + 150 * (customer_id % 5))
        return row.id


def test_cli_report_prints_the_table_and_verdict(sqlite_db):
    eid = _decided(sqlite_db)
    env = {"PATRON_DATABASE_URL": sqlite_db.url, "PATRON_SECRET_KEY": "x"}
    out = CliRunner().invoke(cli_app, ["experiments", "report", str(eid)], env=env)
    assert out.exit_code == 0, out.output
    assert "revenue/recipient" in out.stdout and "verdict: " in out.stdout
    assert "B vs control" in out.stdout and "incremental revenue vs holdout" in out.stdout
    missing = CliRunner().invoke(cli_app, ["experiments", "report", "99"], env=env)
    assert missing.exit_code == 2 and "no experiment with id 99" in missing.output
    listed = CliRunner().invoke(cli_app, ["experiments", "list"], env=env)
    assert f"{eid}\tbroadcast\ttesting\t-\tOffer test" in listed.stdout
    env["PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT"] = "20"
    programme = CliRunner().invoke(cli_app, ["experiments", "holdout"], env=env)
    assert programme.exit_code == 0 and " held out, " in programme.stdout, programme.output
    env["PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT"] = "abc"
    bad = CliRunner().invoke(cli_app, ["experiments", "holdout"], env=env)
    assert bad.exit_code == 2 and "must be a number" in bad.output


def test_experiment_page_shows_arms_chart_verdict_and_the_srm_warning(sqlite_db):
    db = sqlite_db
    eid = _decided(db)
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        for path in ("/experiments", f"/experiments/{eid}"):
            assert client.get(path, follow_redirects=False).status_code in (302, 303, 401)
        assert login(client).status_code == 303
        listing = client.get("/experiments")
        assert listing.status_code == 200 and "Offer test" in listing.text
        page = client.get(f"/experiments/{eid}")
        assert page.status_code == 200
        for text in (
            'data-testid="arms"',
            'data-testid="chart"',
            'data-testid="verdict"',
            "Incremental revenue against the holdout",
        ):
            assert text in page.text, text
        assert " wins: +" in page.text or "no difference" in page.text
        assert 'data-testid="srm"' not in page.text
        with transaction(db.sessions) as s:
            lost = s.scalars(select(Exposure.customer_id).where(Exposure.arm == "A")).all()
            s.execute(delete(Exposure).where(Exposure.customer_id.in_(lost[: len(lost) - 3])))
        warned = client.get(f"/experiments/{eid}")
        assert 'data-testid="srm"' in warned.text and "sample ratio mismatch" in warned.text
        assert client.get("/experiments/999").status_code == 404
