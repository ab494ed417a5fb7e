"""The engine on both databases: sends once, waits, goals, exits, re-entry, versions, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from patron.db import transaction
from patron.errors import Conflict
from patron.journeys import engine, service
from patron.journeys.tables import Enrolment, StepRun
from patron.messages.tables import OutboxMessage
from tests.journeys.conftest import (
    T0,
    at,
    buy,
    enrolments,
    journey,
    paths,
    person,
    pump,
    step,
    template,
    track,
)


def _welcome(template_id: int, **extra) -> dict:
    return {
        "trigger": {"type": "event", "name": "Signed Up"},
        "start": "hello",
        "steps": [
            {"id": "hello", "type": "send", "template_id": template_id, "next": "pause"},
            {"id": "pause", "type": "wait", "seconds": 3600, "next": "again"},
            {"id": "again", "type": "send", "template_id": template_id},
        ],
        **extra,
    }


def _setup(db, n: int = 1, **profile):
    with transaction(db.sessions) as s:
        people = [person(s, f"c{i}", **profile).id for i in range(n)]
        return people, template(s).id


def test_sends_each_step_once_into_the_outbox(db):
    (c,), tid = _setup(db)
    jid = journey(db, _welcome(tid))
    track(db, c, "Signed Up", at(minutes=1))
    for _ in range(3):  # running again changes nothing
        step(db, at(minutes=2))
    step(db, at(minutes=2, hours=1))
    step(db, at(hours=5))
    (e,) = enrolments(db, jid)
    assert (e.state, e.exit_reason) == ("completed", "end")
    with transaction(db.sessions) as s:
        rows = s.execute(
            select(
                OutboxMessage.source, OutboxMessage.source_id, OutboxMessage.occurrence
            ).order_by(OutboxMessage.id)
        ).all()
    assert rows == [
        ("journey", e.version_id, f"hello:{e.id}:0"),
        ("journey", e.version_id, f"again:{e.id}:1"),
    ]
    assert [p[:3] for p in paths(db, jid)[0]["path"]] == [
        ("hello", 0, "sent"),
        ("pause", 0, "done"),
        ("again", 1, "sent"),
    ]


def test_event_trigger_with_property_filter_and_at_most_one_live(db):
    (c, d), tid = _setup(db, 2)
    definition = _welcome(tid, reentry={"policy": "always"})
    definition["trigger"]["where"] = [{"property": "plan", "op": "eq", "value": "pro"}]
    jid = journey(db, definition)
    track(db, c, "Signed Up", at(minutes=1), plan="pro")
    track(db, c, "Signed Up", at(minutes=2), plan="pro")  # already live: no second enrolment
    track(db, d, "Signed Up", at(minutes=2), plan="free")
    pump(db, at(minutes=3))
    assert [e.customer_id for e in enrolments(db, jid)] == [c]


@pytest.mark.parametrize("policy, expected", [("never", 1), ("after_days", 2), ("always", 3)])
def test_reentry_policies(db, policy, expected):
    (c,), tid = _setup(db)
    reentry = {"policy": policy, "days": 2} if policy == "after_days" else {"policy": policy}
    jid = journey(db, _welcome(tid, reentry=reentry))
    for day in (0, 1, 3):  # each journey takes an hour, so it is over by the next entry
        when = at(days=day)
        track(db, c, "Signed Up", when)
        step(db, when)
        step(db, when + timedelta(hours=2))
    assert len(enrolments(db, jid)) == expected


def test_goal_converts_with_the_order_revenue_and_exits(db):
    (c, d), tid = _setup(db, 2)
    jid = journey(db, _welcome(tid, goal={"type": "order", "within_days": 7}))
    track(db, c, "Signed Up", at(minutes=1))
    track(db, d, "Signed Up", at(minutes=1))
    step(db, at(minutes=2))
    buy(db, "c0", at(minutes=30), total=4500)
    buy(db, "c1", at(days=9), total=999)  # the second customer is done by then
    step(db, at(minutes=31))
    step(db, at(days=10))
    first, second = enrolments(db, jid)
    assert (first.state, first.exit_reason, first.revenue_minor) == ("converted", "goal", 4500)
    assert (second.state, second.revenue_minor) == ("completed", 0)
    with transaction(db.sessions) as s:  # the converted customer got no second message
        sent = dict(
            s.execute(
                select(OutboxMessage.customer_id, func.count()).group_by(OutboxMessage.customer_id)
            ).all()
        )
    assert sent == {c: 1, d: 2}


def test_order_trigger_first_order_over_a_value_with_a_sku(db):
    (c, _d), tid = _setup(db, 2)
    trigger = {"type": "order", "nth": 2, "min_total_minor": 2000, "sku": "TEA"}
    jid = journey(db, {**_welcome(tid), "trigger": trigger})
    buy(db, "c0", at(minutes=1), total=5000, skus=["TEA"])  # first order: not the nth
    buy(db, "c0", at(minutes=2), total=5000, skus=["TEA"])  # second: enters
    buy(db, "c1", at(minutes=1), total=5000, skus=["COFFEE"])
    buy(db, "c1", at(minutes=2), total=1000, skus=["TEA"])  # second but too small
    pump(db, at(minutes=3))
    assert [e.customer_id for e in enrolments(db, jid)] == [c]


def test_wait_for_happened_and_timed_out(db):
    (c, d), tid = _setup(db, 2)
    definition = {
        "trigger": {"type": "api"},
        "steps": [
            {
                "id": "w",
                "type": "wait_for",
                "event": {"name": "Clicked", "where": [{"property": "n", "op": "gt", "value": 1}]},
                "timeout_seconds": 3600,
                "happened": "yes",
                "timed_out": "no",
            },
            {"id": "yes", "type": "send", "template_id": tid},
            {"id": "no", "type": "exit"},
        ],
    }
    jid = journey(db, definition)
    with transaction(db.sessions) as s:
        for cid in (c, d):
            service.enrol(session=s, journey_id=jid, customer_id=cid, now=T0)
    step(db, T0)
    track(db, c, "Clicked", at(minutes=5), n=1)  # filtered out
    track(db, c, "Clicked", at(minutes=6), n=2)
    step(db, at(minutes=7))
    step(db, at(hours=2))
    by = {p["customer_id"]: p["path"] for p in paths(db, jid)}
    assert by[c] == [("w", 0, "happened"), ("yes", 1, "sent")]
    assert by[d] == [("w", 0, "timed_out"), ("no", 1, "exit")]


def test_branch_uses_segment_rules_and_update_profile_tags(db):
    with transaction(db.sessions) as s:
        gold = person(s, "g", attributes={"plan": "gold"}).id
        plain = person(s, "p").id
    definition = {
        "trigger": {"type": "api"},
        "steps": [
            {
                "id": "b",
                "type": "branch",
                "rules": {
                    "type": "and",
                    "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
                },
                "yes": "tag",
                "no": "end",
            },
            {"id": "tag", "type": "update_profile", "add_tags": ["vip"], "attributes": {"x": 1}},
            {"id": "end", "type": "exit"},
        ],
    }
    jid = journey(db, definition)
    with transaction(db.sessions) as s:
        for cid in (gold, plain):
            service.enrol(session=s, journey_id=jid, customer_id=cid, now=T0)
    step(db, T0)
    by = {p["customer_id"]: p["path"] for p in paths(db, jid)}
    assert by == {
        gold: [("b", 0, "yes"), ("tag", 0, "updated")],
        plain: [("b", 0, "no"), ("end", 0, "exit")],
    }
    from patron.customers import service as customers

    with transaction(db.sessions) as s:
        attributes = customers.get_customer(session=s, customer_id=gold).attributes
    assert attributes["tags"] == ["vip"] and attributes["x"] == 1


def test_a_new_version_leaves_enrolled_customers_on_theirs(db):
    (c, d), tid = _setup(db, 2)
    jid = journey(db, _welcome(tid))
    track(db, c, "Signed Up", at(minutes=1))
    step(db, at(minutes=1))  # c is waiting on version 1
    edited = _welcome(tid)
    edited["steps"][2] = {"id": "again", "type": "exit"}
    with transaction(db.sessions) as s:
        service.new_version(session=s, journey_id=jid, definition=edited, now=at(minutes=2))
    track(db, d, "Signed Up", at(minutes=3))
    step(db, at(minutes=3))
    step(db, at(hours=3))
    by = {p["customer_id"]: p["path"][-1] for p in paths(db, jid)}
    assert by == {c: ("again", 1, "sent"), d: ("again", 1, "exit")}
    first, second = enrolments(db, jid)
    assert first.version_id != second.version_id


def test_pause_resume_and_archive(db):
    (c, d), tid = _setup(db, 2)
    jid = journey(db, _welcome(tid))
    track(db, c, "Signed Up", at(minutes=1))
    pump(db, at(minutes=1))
    with transaction(db.sessions) as s:
        service.pause(session=s, journey_id=jid, now=at(minutes=1))
    step(db, at(minutes=2))
    track(db, d, "Signed Up", at(minutes=3))  # a paused journey enrols nobody
    step(db, at(minutes=4))
    (e,) = enrolments(db, jid)
    assert (e.state, e.step_id) == ("active", "hello")
    with transaction(db.sessions) as s:
        service.resume(session=s, journey_id=jid, now=at(minutes=5))
    step(db, at(minutes=5))
    assert enrolments(db, jid)[0].state == "waiting"
    with transaction(db.sessions) as s:
        service.archive(session=s, journey_id=jid, now=at(minutes=6))
        with pytest.raises(Conflict):
            service.resume(session=s, journey_id=jid, now=at(minutes=6))
    assert [(e.state, e.exit_reason) for e in enrolments(db, jid)] == [("exited", "archived")]


def test_exit_on_unsubscribe(db):
    (c,), tid = _setup(db)
    jid = journey(db, _welcome(tid, exit_on={"unsubscribed": True}))
    track(db, c, "Signed Up", at(minutes=1))
    step(db, at(minutes=1))
    from patron.messages import service as messages

    with transaction(db.sessions) as s:
        messages.unsubscribe(session=s, customer_id=c, now=at(minutes=10))
    step(db, at(minutes=11))
    assert [(e.state, e.exit_reason) for e in enrolments(db, jid)] == [("exited", "unsubscribed")]


def test_a_failing_step_retries_then_parks_failed_and_others_go_on(db, monkeypatch):
    (c, d), tid = _setup(db, 2)
    jid = journey(db, _welcome(tid))
    real = engine.messages.queue_message

    def flaky(**kw):
        if kw["customer_id"] == c:
            raise RuntimeError("outbox unavailable")
        return real(**kw)

    real_many = engine.messages.queue_messages_many

    def flaky_many(**kw):  # the set-based path fails the batch, then falls back
        if any(customer_id == c for customer_id, _ in kw["rows"]):
            raise RuntimeError("outbox unavailable")
        return real_many(**kw)

    monkeypatch.setattr(engine.messages, "queue_message", flaky)
    monkeypatch.setattr(engine.messages, "queue_messages_many", flaky_many)
    track(db, c, "Signed Up", at(minutes=1))
    track(db, d, "Signed Up", at(minutes=1))
    when = at(minutes=2)
    for _ in range(engine.MAX_ATTEMPTS):
        step(db, when)
        when += timedelta(hours=7)
    bad, good = enrolments(db, jid)
    assert (bad.state, bad.attempts) == ("failed", engine.MAX_ATTEMPTS)
    assert "outbox unavailable" in bad.last_error
    assert good.state == "completed"
    with transaction(db.sessions) as s:
        runs = s.scalar(select(func.count()).where(StepRun.enrolment_id == bad.id))
    assert runs == 0  # a failed attempt leaves no half-done step


def test_segment_trigger_with_entry_filter_and_left_segment_exit(db):
    from patron.segments import service as segments

    with transaction(db.sessions) as s:
        a = person(s, "a", attributes={"plan": "gold"}).id
        b = person(s, "b", attributes={"plan": "gold", "vip": True}).id
        tid = template(s).id
        rule = {
            "type": "and",
            "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
        }
        seg = segments.create_segment(session=s, name="gold", rules_json=rule, now=T0)
    vip = {
        "type": "and",
        "children": [{"type": "attribute", "key": "vip", "op": "eq", "value": True}],
    }
    definition = {
        **_welcome(tid),
        "trigger": {"type": "segment_entered", "segment_id": seg.id},
        "entry_filter": vip,
        "exit_on": {"left_segment": True},
    }
    jid = journey(db, definition)
    with transaction(db.sessions) as s:
        segments.refresh_segment(session=s, segment_id=seg.id, now=at(minutes=1))
    step(db, at(minutes=2))
    assert [e.customer_id for e in enrolments(db, jid)] == [b]
    from patron.customers import service as customers

    with transaction(db.sessions) as s:
        customers.update_customer(
            session=s, customer_id=b, profile={"attributes": {"plan": "free"}}, now=at(minutes=3)
        )
        segments.refresh_segment(session=s, segment_id=seg.id, now=at(minutes=3))
    step(db, at(minutes=4))
    assert [(e.state, e.exit_reason) for e in enrolments(db, jid)] == [("exited", "left segment")]
    assert a not in {e.customer_id for e in enrolments(db, jid)}


def test_claim_leases_disjoint_enrolments(db):
    people, tid = _setup(db, 3)
    jid = journey(db, _welcome(tid))
    with transaction(db.sessions) as s:
        for cid in people:
            service.enrol(session=s, journey_id=jid, customer_id=cid, now=T0)
    with transaction(db.sessions) as s:
        first = engine.claim(s, worker="a", now=T0, limit=2)
    with transaction(db.sessions) as s:
        second = engine.claim(s, worker="b", now=T0, limit=5)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    # An expired lease is taken over; the old holder's batch then does nothing.
    later = T0 + timedelta(seconds=engine.LEASE_SECONDS + 1)
    assert engine.run_batch(db.sessions, now=later, worker="c") == (3, 6)
    with transaction(db.sessions) as s:
        assert (
            s.scalar(
                select(func.count()).select_from(Enrolment).where(Enrolment.state == "waiting")
            )
            == 3
        )


def test_wait_for_a_condition_wakes_when_the_profile_changes(db):
    from patron.customers import service as customers

    (c,), tid = _setup(db)
    gold = {
        "type": "and",
        "children": [{"type": "attribute", "key": "plan", "op": "eq", "value": "gold"}],
    }
    definition = {
        "trigger": {"type": "api"},
        "steps": [
            {
                "id": "w",
                "type": "wait_for",
                "condition": gold,
                "timeout_seconds": 86400,
                "happened": "yes",
                "timed_out": "no",
            },
            {"id": "yes", "type": "send", "template_id": tid},
            {"id": "no", "type": "exit"},
        ],
    }
    jid = journey(db, definition)
    with transaction(db.sessions) as s:
        service.enrol(session=s, journey_id=jid, customer_id=c, now=T0)
    step(db, T0)
    assert enrolments(db, jid)[0].state == "waiting"
    with transaction(db.sessions) as s:
        customers.update_customer(
            session=s, customer_id=c, profile={"attributes": {"plan": "gold"}}, now=at(hours=1)
        )
    step(db, at(hours=1))
    assert paths(db, jid)[0]["path"] == [("w", 0, "happened"), ("yes", 1, "sent")]


def test_lifecycle_trigger_from_and_to(db):
    from patron.events import service as events
    from patron.events.types import event

    (c, d), tid = _setup(db, 2)
    trigger = {"type": "lifecycle_changed", "from": "loyal", "to": "at_risk"}
    jid = journey(db, {**_welcome(tid), "trigger": trigger})
    with transaction(db.sessions) as s:
        events.append(
            s,
            [
                event("lifecycle.changed", c, from_stage="loyal", to_stage="at_risk"),
                event("lifecycle.changed", d, from_stage="new", to_stage="at_risk"),
            ],
            now=at(minutes=1),
        )
    pump(db, at(minutes=2))
    assert [e.customer_id for e in enrolments(db, jid)] == [c]


def test_enrolment_wakes_the_steps_job_which_runs_due_steps(db):
    from types import SimpleNamespace

    from patron.jobs.tables import Job

    (c,), tid = _setup(db)
    jid = journey(db, _welcome(tid))
    with transaction(db.sessions) as s:
        service.enrol(session=s, journey_id=jid, customer_id=c, now=T0)
        kinds = set(s.scalars(select(Job.kind).where(Job.state == "pending")))
    assert engine.STEPS_JOB in kinds
    ctx = SimpleNamespace(sessions=db.sessions, clock=lambda: T0)
    assert engine.steps_job(ctx=ctx, now=T0, payload={}) == "1 enrolments"
    assert enrolments(db, jid)[0].state == "waiting"
