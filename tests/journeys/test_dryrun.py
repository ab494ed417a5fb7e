"""The dry run on both databases: exact counts for a known shop, and nothing written."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app
from patron.customers import service as customers
from patron.db import Base, transaction, utcnow
from patron.journeys import service
from patron.messages.tables import OutboxMessage
from patron.segments import service as segments
from tests.journeys.conftest import buy, journey, paths, person, step, template, track

DAY = 86400


def winback(first: int, second: int) -> dict:
    """Send, wait 3 days, wait 7 days for an order event: exit, or a second offer."""
    return {
        "trigger": {"type": "event", "name": "Browsed"},
        "goal": {"type": "order", "within_days": 30},
        "start": "offer",
        "steps": [
            {"id": "offer", "type": "send", "template_id": first, "next": "pause"},
            {"id": "pause", "type": "wait", "seconds": 3 * DAY, "next": "order"},
            {
                "id": "order",
                "type": "wait_for",
                "event": {"name": "Placed Order"},
                "timeout_seconds": 7 * DAY,
                "happened": "done",
                "timed_out": "bigger",
            },
            {"id": "done", "type": "exit"},
            {"id": "bigger", "type": "send", "template_id": second},
        ],
    }


def seed(db, base):
    """Five customers whose paths through `winback` are known; (ids, template ids)."""
    with transaction(db.sessions) as s:
        ids = [person(s, f"w{i}").id for i in range(5)]
        first, second = template(s, "first offer").id, template(s, "second offer").id
    c0, c1, c2, c3, _c4 = ids
    day = lambda n: base + timedelta(days=n)  # noqa: E731
    for c in (c0, c1, c3):
        track(db, c, "Browsed", day(1))
    track(db, c0, "Placed Order", day(6))  # while waiting for it: happened, exit
    track(db, c1, "Browsed", day(2))  # already in: never re-enters
    track(db, c2, "Browsed", day(15))  # still waiting for an order at the end
    buy(db, "w3", day(2), total=2500)  # the goal, during the first wait
    track(db, ids[4], "Looked", day(1))  # never triggers
    return ids, (first, second)


def expected(ids, first, second) -> dict:
    c0, c1, c2, c3, _ = ids
    return {
        "entered": 4,
        "converted": 1,
        "revenue_minor": 2500,
        "finished": {
            "completed: end": 1,
            "completed: exit step": 1,
            "converted: goal": 1,
            "in progress": 1,
        },
        "steps": [
            {"id": "offer", "type": "send", "reached": 4, "outcomes": {"sent": 4}},
            {"id": "pause", "type": "wait", "reached": 4, "outcomes": {"done": 3, "waiting": 1}},
            {
                "id": "order",
                "type": "wait_for",
                "reached": 3,
                "outcomes": {"happened": 1, "timed_out": 1, "waiting": 1},
            },
            {"id": "done", "type": "exit", "reached": 1, "outcomes": {"exit": 1}},
            {"id": "bigger", "type": "send", "reached": 1, "outcomes": {"sent": 1}},
        ],
        "messages": [
            {
                "step": "offer",
                "template_id": first,
                "template": "first offer",
                "count": 4,
                "sample": sorted([c0, c1, c2, c3]),
            },
            {
                "step": "bigger",
                "template_id": second,
                "template": "second offer",
                "count": 1,
                "sample": [c1],
            },
        ],
    }


def row_counts(db) -> dict[str, int]:
    with transaction(db.sessions) as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


def test_exact_counts_and_nothing_written(db):
    base = utcnow() - timedelta(days=20)
    ids, (first, second) = seed(db, base)
    jid = journey(db, winback(first, second), live=False)
    before = row_counts(db)
    with transaction(db.sessions) as s:
        result = service.dry_run(session=s, now=base + timedelta(days=20), days=30, journey_id=jid)
    assert {k: result[k] for k in expected(ids, first, second)} == expected(ids, first, second)
    assert result["customers"] == 4 and result["truncated"] is False
    assert result["max_customers"] == 50_000
    assert row_counts(db) == before
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # A shorter window starts after the first entries: only c2 enters.
    with transaction(db.sessions) as s:
        short = service.dry_run(session=s, now=base + timedelta(days=20), days=10, journey_id=jid)
    assert short["entered"] == 1 and short["messages"][0]["sample"] == [ids[2]]


@pytest.fixture
def api(db):
    with transaction(db.sessions) as s:
        key = auth_service.create_key(session=s, name="r", scopes="read", now=utcnow())[1]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    return client, {"Authorization": f"Bearer {key}"}


def test_dry_run_through_the_api_and_cli(db, api, monkeypatch):
    client, headers = api
    ids, (first, second) = seed(db, utcnow() - timedelta(days=20))
    jid = journey(db, winback(first, second), live=False)
    saved = client.post(f"/api/journeys/{jid}/dry-run", json={"days": 30}, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["entered"] == 4 and saved.json()["converted"] == 1
    unsaved = client.post(
        "/api/journeys/dry-run", json={"definition": winback(first, second)}, headers=headers
    )
    assert unsaved.status_code == 200 and unsaved.json()["messages"][1]["sample"] == [ids[1]]
    bad = winback(first, second)
    bad["steps"][4]["template_id"] = second + 100
    refused = client.post("/api/journeys/dry-run", json={"definition": bad}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["details"][0]["step"] == "bigger"
    assert client.post("/api/journeys/dry-run", json={}, headers=headers).status_code == 422
    assert client.post("/api/journeys/999/dry-run", json={}, headers=headers).status_code == 404
    monkeypatch.setenv("PATRON_DATABASE_URL", db.url)
    result = CliRunner().invoke(app, ["journeys", "dry-run", str(jid), "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "4 would have entered" in result.output and "second offer" in result.output
    missing = CliRunner().invoke(app, ["journeys", "dry-run", "999"])
    assert missing.exit_code != 0 and "error:" in missing.output


def test_the_dry_run_agrees_with_the_engine(db):
    """The same journey, live, driven by the engine through the same days: same counts."""
    base = utcnow() - timedelta(days=20)
    with transaction(db.sessions) as s:
        ids = [person(s, f"e{i}").id for i in range(4)]
        first, second = template(s, "first").id, template(s, "second").id
    jid = journey(db, winback(first, second))
    c0, c1, c2, c3 = ids
    plan = {
        1: [(track, c0, "Browsed"), (track, c1, "Browsed"), (track, c3, "Browsed")],
        2: [(track, c1, "Browsed"), (buy, "e3", 2500)],
        6: [(track, c0, "Placed Order")],
        15: [(track, c2, "Browsed")],
    }
    for n in range(21):
        when = base + timedelta(days=n)
        for action, who, what in plan.get(n, []):
            if action is track:
                track(db, who, what, when)
            else:
                buy(db, who, when, total=what)
        step(db, when)
    engine_runs = paths(db, jid)
    outcomes: dict[str, Counter] = {}
    for run in engine_runs:
        for step_id, _iteration, outcome in run["path"]:
            outcomes.setdefault(step_id, Counter())[outcome] += 1
    finished = Counter(
        "in progress" if r["state"] in ("active", "waiting") else f"{r['state']}: {r['reason']}"
        for r in engine_runs
    )
    with transaction(db.sessions) as s:
        dry = service.dry_run(
            session=s, now=base + timedelta(days=20), days=30, definition=winback(first, second)
        )
    assert dry["finished"] == dict(finished) and dry["entered"] == len(engine_runs) == 4
    assert {s["id"]: s["outcomes"] for s in dry["steps"]} == {
        k: dict(v) for k, v in outcomes.items()
    }
    assert dry["revenue_minor"] == sum(r["revenue"] for r in engine_runs) == 2500


def _attr(key: str, op: str, value) -> dict:
    return {
        "type": "and",
        "children": [{"type": "attribute", "key": key, "op": op, "value": value}],
    }


def test_segment_trigger_entry_filter_branch_and_left_segment_exit(db):
    base = utcnow() - timedelta(days=10)
    plans = {"r0": "gold", "r1": "gold", "r2": "staff", "r3": "gold"}
    with transaction(db.sessions) as s:
        people = {
            name: person(
                s, name, attributes={"risk": "low" if name == "r3" else "high", "plan": plan}
            ).id
            for name, plan in plans.items()
        }
        gold, other = template(s, "gold").id, template(s, "other").id
        risky = segments.create_segment(
            session=s, name="Risky", rules_json=_attr("risk", "eq", "high"), now=base
        ).id
    with transaction(db.sessions) as s:
        later = base + timedelta(days=2)
        customers.upsert_customer(
            session=s, external_id="r1", profile={"attributes": {"risk": "low"}}, now=later
        )
        segments.refresh_segment(session=s, segment_id=risky, now=later)
    definition = {
        "trigger": {"type": "segment_entered", "segment_id": risky},
        "entry_filter": _attr("plan", "ne", "staff"),
        "exit_on": {"left_segment": True},
        "steps": [
            {"id": "pause", "type": "wait", "seconds": 5 * DAY, "next": "vip"},
            {
                "id": "vip",
                "type": "branch",
                "rules": _attr("plan", "eq", "gold"),
                "yes": "a",
                "no": "b",
            },
            {"id": "a", "type": "send", "template_id": gold},
            {"id": "b", "type": "send", "template_id": other},
        ],
    }
    with transaction(db.sessions) as s:
        dry = service.dry_run(session=s, now=utcnow(), days=30, definition=definition)
    assert dry["entered"] == 2  # r2 is staff (entry filter), r3 never entered the segment
    assert dry["finished"] == {"completed: end": 1, "exited: left segment": 1}
    assert {s["id"]: s["outcomes"] for s in dry["steps"]} == {
        "pause": {"done": 1, "waiting": 1},
        "vip": {"yes": 1},
        "a": {"sent": 1},
        "b": {},
    }
    assert dry["messages"][0]["sample"] == [people["r0"]]
