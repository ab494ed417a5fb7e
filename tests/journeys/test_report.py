"""Journey reports on both databases: the funnel via the service, API, CLI and dashboard, and
each customer's journey history on their page."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app
from patron.db import transaction
from patron.journeys import report, service
from patron.messages import links, sender, tracking
from patron.messages import service as messages
from patron.messages.config import MessageConfig
from patron.messages.tables import OutboxMessage
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login
from tests.journeys.conftest import T0, at, buy, enrolments, journey, person, step, template

SECRET = "report-secret"
GOLD = {
    "type": "and",
    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
}


def _definition(tid: int) -> dict:
    return {
        "trigger": {"type": "api"},
        "goal": {"type": "order", "within_days": 7},
        "exit_on": {"unsubscribed": True},
        "start": "b",
        "steps": [
            {"id": "b", "type": "branch", "rules": GOLD, "yes": "hello", "no": "bye"},
            {"id": "hello", "type": "send", "template_id": tid, "next": "w"},
            {"id": "w", "type": "wait", "seconds": 3600, "next": "again"},
            {"id": "again", "type": "send", "template_id": tid},
            {"id": "bye", "type": "exit"},
        ],
    }


def _send(db, now) -> None:
    """Send every queued journey message through the capture channel."""
    config = MessageConfig(secret_key=SECRET)
    while sender.send_batch(db.sessions, config, lane="bulk", worker="w", clock=lambda: now):
        pass


def _click(db, customer_id: int, now) -> None:
    """A human click on the customer's first message."""
    with transaction(db.sessions) as s:
        outbox_id = s.scalar(
            select(OutboxMessage.id).where(OutboxMessage.customer_id == customer_id)
        )
        token = links.click_url("", SECRET, outbox_id=outbox_id, url="https://shop.example/x")
        tracking.click(
            s, secret=SECRET, token=token.rsplit("/", 1)[1], user_agent="Mozilla/5.0", now=now
        )


def _scenario(db) -> tuple[int, dict]:
    """Four customers on version 1 (clicked and completed, converted, unsubscribed, branched
    off) and one on version 2 (branched off)."""
    with transaction(db.sessions) as s:
        ids = {n: person(s, n, attributes={"plan": "gold"}).id for n in ("g1", "g2", "g3")}
        ids.update({n: person(s, n).id for n in ("p1", "p2")})
        tid = template(s).id
    jid = journey(db, _definition(tid), name="Welcome")
    with transaction(db.sessions) as s:
        for n in ("g1", "g2", "g3", "p1"):
            service.enrol(session=s, journey_id=jid, customer_id=ids[n], now=T0)
    step(db, T0)
    _send(db, at(minutes=1))
    _click(db, ids["g1"], at(minutes=5))
    with transaction(db.sessions) as s:
        messages.unsubscribe(session=s, customer_id=ids["g3"], now=at(minutes=10))
    step(db, at(minutes=11))
    buy(db, "g2", at(minutes=30), total=4500)
    step(db, at(minutes=31))
    with transaction(db.sessions) as s:
        service.new_version(session=s, journey_id=jid, definition=_definition(tid), now=at(hours=1))
        service.enrol(session=s, journey_id=jid, customer_id=ids["p2"], now=at(hours=1))
    step(db, at(hours=2))
    _send(db, at(hours=2, minutes=1))
    return jid, ids


def _steps(funnel: dict) -> dict:
    return {
        s["id"]: (s["reached"], s["outcomes"], s["messages"] and s["messages"]["clicked"])
        for s in funnel["steps"]
    }


V1_STEPS = {
    "b": (4, {"yes": 3, "no": 1}, None),
    "hello": (3, {"sent": 3}, 1),
    "w": (3, {"done": 1, "waiting": 2}, None),
    "again": (1, {"sent": 1}, 0),
    "bye": (1, {"exit": 1}, None),
}


def test_funnel_per_version_and_in_total_via_service_api_cli_and_pages(db, monkeypatch):
    jid, ids = _scenario(db)
    with transaction(db.sessions) as s:
        found = report.report(session=s, journey_id=jid)
    v2, v1 = found["versions"]
    assert (v1["number"], v2["number"]) == (1, 2)
    assert _steps(v1) == V1_STEPS
    assert [s["id"] for s in v1["steps"]] == ["b", "hello", "w", "again", "bye"]
    hello = next(s for s in v1["steps"] if s["id"] == "hello")
    assert hello["messages"] == {"messages": 3, "sent": 3, "delivered": 3, "clicked": 1}
    assert hello["percent"] == 75
    assert (v1["entered"], v1["converted"], v1["revenue_minor"]) == (4, 1, 4500)
    assert v1["exited"] == {"unsubscribed": 1}
    assert v1["states"] == {"completed": 2, "converted": 1, "exited": 1}
    assert (v2["entered"], v2["converted"], v2["exited"]) == (1, 0, {})
    assert _steps(v2)["b"] == (1, {"no": 1}, None) and _steps(v2)["hello"] == (0, {}, None)
    total = found["total"]
    assert (total["entered"], total["converted"], total["revenue_minor"]) == (5, 1, 4500)
    assert _steps(total) == {
        **V1_STEPS,
        "b": (5, {"yes": 3, "no": 2}, None),
        "bye": (2, {"exit": 2}, None),
    }
    assert (total["failed"], total["failed_reasons"]) == (0, {})

    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="r", scopes="read", now=T0)[1]
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        got = client.get(f"/api/journeys/{jid}/report", headers={"Authorization": f"Bearer {key}"})
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["total"]["entered"] == 5 and _steps(body["versions"][1]) == V1_STEPS
        missing = client.get(
            "/api/journeys/9999/report", headers={"Authorization": f"Bearer {key}"}
        )
        assert missing.status_code == 404 and missing.json()["error"]
        assert login(client).status_code == 303
        listed = client.get("/journeys").text
        assert f'href="/journeys/{jid}/report"' in listed
        page = client.get(f"/journeys/{jid}/report")
        assert page.status_code == 200
        assert 'data-testid="funnel-total"' in page.text and "width:75%" in page.text
        assert "unsubscribed 1" in page.text and 'data-testid="funnel-v1"' in page.text
        converted = client.get(f"/customers/{ids['g2']}").text
        assert 'data-testid="journeys-panel"' in converted
        assert "converted" in converted and "revenue 4,500" in converted
        left = client.get(f"/customers/{ids['g3']}").text
        assert "Welcome" in left and "unsubscribed" in left
        assert 'data-testid="journeys-panel"' not in client.get(f"/customers/{_stranger(db)}").text

    monkeypatch.setenv("PATRON_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["journeys", "report", str(jid), "--versions"])
    assert result.exit_code == 0, result.output
    assert "entered 5; converted 1, revenue 4500" in result.output
    assert "exited: unsubscribed 1" in result.output and "version 1: entered 4" in result.output
    missing = CliRunner().invoke(app, ["journeys", "report", "9999"])
    assert missing.exit_code != 0 and "error:" in missing.output


def _stranger(db) -> int:
    """A customer who never entered a journey."""
    with transaction(db.sessions) as s:
        return person(s, "nobody").id


def test_customer_history_newest_first_with_the_live_step(db):
    with transaction(db.sessions) as s:
        c = person(s, "c", attributes={"plan": "gold"}).id
        tid = template(s).id
    first = journey(db, _definition(tid), name="First")
    second = journey(db, _definition(tid), name="Second")
    for jid in (first, second):
        with transaction(db.sessions) as s:
            service.enrol(session=s, journey_id=jid, customer_id=c, now=T0)
    step(db, T0)
    with transaction(db.sessions) as s:
        service.archive(session=s, journey_id=first, now=T0 + timedelta(minutes=1))
        rows = report.customer_history(s, customer_id=c)
    assert [
        (r["journey"], r["version"], r["state"], r["step_id"], r["exit_reason"]) for r in rows
    ] == [
        ("Second", 1, "waiting", "w", None),
        ("First", 1, "exited", None, "archived"),
    ]
    assert rows[1]["finished_at"] is not None and len(enrolments(db, first)) == 1
