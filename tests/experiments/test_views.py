"""The dashboard's new-experiment form and the start/stop buttons, over a TestClient."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction
from patron.experiments import service
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.experiments.conftest import audience


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _fields(setup: dict, token: str, **changes) -> dict:
    fields = {
        "csrf_token": token,
        "name": "Subject line",
        "kind": "broadcast",
        "metric": "clicks",
        "segment_ids": [str(setup["segment"])],
        "holdout_percent": "10",
        "decide_after_hours": "48",
        "arm_key": ["A", "B"],
        "arm_percent": ["50", "50"],
        "arm_template_id": [str(setup["a"]), str(setup["b"])],
        "arm_send_delay_minutes": ["0", "30"],
        "arm_offer": ["", '{"code": "SAVE10"}'],
        "arm_branch": ["", ""],
        "action": "create",
    }
    fields.update(changes)
    return fields


def test_form_creates_refuses_and_starts(sqlite_db):
    db = sqlite_db
    setup = audience(db, 12)
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        page = client.get("/experiments/new")
        assert page.status_code == 200 and "arm-a" in page.text
        token = _csrf(page.text)
        no_csrf = _fields(setup, "")
        assert client.post("/experiments", data=no_csrf).status_code == 403
        bad = client.post("/experiments", data=_fields(setup, token, arm_percent=["40", "50"]))
        assert bad.status_code == 400 and "sum to 100" in bad.text
        assert 'value="Subject line"' in bad.text and 'value="40"' in bad.text
        typo = client.post("/experiments", data=_fields(setup, token, holdout_percent="ten"))
        assert typo.status_code == 400 and "holdout percent: a whole number" in typo.text
        offer = client.post("/experiments", data=_fields(setup, token, arm_offer=["", "x"]))
        assert offer.status_code == 400 and "offer must be a JSON object" in offer.text
        sized = client.post(
            "/experiments", data=_fields(setup, token, action="calculate", baseline="2", mde="10")
        )
        assert sized.status_code == 200 and 'data-testid="needed"' in sized.text
        assert "76,920" in sized.text  # 2% clicks, +10% relative: 2(z·sd/δ)² per arm
        more = client.post("/experiments", data=_fields(setup, token, action="add_arm"))
        assert more.text.count('data-testid="arm-row"') == 3
        made = client.post("/experiments", data=_fields(setup, token), follow_redirects=False)
        assert made.status_code == 303
        eid = int(made.headers["location"].rsplit("/", 1)[1])
        with transaction(db.sessions) as s:
            row = service.get(s, experiment_id=eid)
            assert (row.state, row.metric, row.decide_after_hours) == ("draft", "clicks", 48)
            assert row.arms[1]["offer"] == {"code": "SAVE10"}
            assert row.arms[1]["send_delay_minutes"] == 30
        shown = client.get(f"/experiments/{eid}")
        assert 'data-testid="start"' in shown.text and 'data-testid="decide"' not in shown.text
        assert client.post(f"/experiments/{eid}/start", data={}).status_code == 403
        started = client.post(f"/experiments/{eid}/start", data={"csrf_token": token})
        assert started.status_code == 200 and "Experiment started." in started.text
        assert 'data-testid="start"' not in started.text and 'data-testid="stop"' in started.text
        early = client.post(f"/experiments/{eid}/decide", data={"csrf_token": token})
        assert "no decision before it ends" in early.text
        with transaction(db.sessions) as s:
            assert service.get(s, experiment_id=eid).state == "testing"
        again = client.post(f"/experiments/{eid}/start", data={"csrf_token": token})
        assert "testing experiment cannot start" in again.text
        assert client.post("/experiments/999/start", data={"csrf_token": token}).status_code == 404
