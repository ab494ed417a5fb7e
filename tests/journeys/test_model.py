"""Random journeys and random streams of events and orders on a simulated clock: each
customer's path through the database engine equals the pure reference interpreter's."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.db import transaction
from patron.events import service as events
from patron.events.types import event
from patron.journeys import effects, engine, reference, service
from patron.journeys.definition import parse
from tests.journeys.conftest import T0, journey, paths, person, pump, template

TICK = timedelta(minutes=30)
TICKS = 8
ZONES = ["UTC", "America/New_York", "Asia/Tokyo"]
VIP = {"type": "and", "children": [{"type": "attribute", "key": "vip", "op": "eq", "value": True}]}
_n = itertools.count(1)


def log(db, domain_event, when) -> None:
    """Append one event to the log at a time (the consumer sees only the log)."""
    with transaction(db.sessions) as s:
        events.append(s, [domain_event], now=when)


KINDS = ("send", "wait", "wait_until", "branch", "split", "wait_for", "notify", "webhook", "exit")


@st.composite
def definitions(draw, template_id: int, go: str, click: str):
    """A small valid journey: steps point forward, and only waits point back."""
    n = draw(st.integers(2, 6))
    ids = [f"s{i}" for i in range(n)]

    def later(i, back=False):
        pool = ids if back else ids[i + 1 :]
        return draw(st.sampled_from([*pool, None])) if pool else None

    steps = []
    for i, sid in enumerate(ids):
        kind = draw(st.sampled_from(KINDS))
        if kind in ("branch", "split") and i == n - 1:
            kind = "send"
        step = {"id": sid, "type": kind}
        if kind == "send":
            step.update(template_id=template_id, next=later(i))
        elif kind == "notify":
            step.update(line="Note {{ customer.email }}", next=later(i))
        elif kind == "webhook":
            step.update(url="http://127.0.0.1:9/hook", next=later(i))
        elif kind == "wait":
            step.update(seconds=draw(st.sampled_from([1800, 3600, 7200])), next=later(i, True))
        elif kind == "wait_until":
            step.update(at=draw(st.sampled_from(["13:00", "14:30", "22:00"])), next=later(i))
        elif kind == "branch":
            step.update(rules=VIP, yes=draw(st.sampled_from(ids[i + 1 :])), no=later(i) or ids[-1])
        elif kind == "split":
            first = draw(st.sampled_from([10, 50, 90]))
            step["branches"] = [
                {"percent": first, "next": draw(st.sampled_from(ids[i + 1 :]))},
                {"percent": 100 - first, "next": draw(st.sampled_from(ids[i + 1 :]))},
            ]
        elif kind == "wait_for":
            step.update(
                event={"name": draw(st.sampled_from([go, click]))},
                timeout_seconds=draw(st.sampled_from([1800, 3600])),
                happened=later(i, True) or ids[-1],
                timed_out=later(i, True) or ids[-1],
            )
        steps.append(step)
    reachable, todo = {"s0"}, ["s0"]
    by_id = {s["id"]: s for s in steps}
    while todo:
        s = by_id[todo.pop()]
        targets = [s.get(k) for k in ("next", "yes", "no", "happened", "timed_out")]
        targets += [b["next"] for b in s.get("branches", [])]
        for t in targets:
            if t is not None and t not in reachable:
                reachable.add(t)
                todo.append(t)
    policy = draw(st.sampled_from(["never", "after_days", "always"]))
    return {
        "trigger": {"type": "event", "name": go},
        "start": "s0",
        "steps": [s for s in steps if s["id"] in reachable],
        "reentry": {"policy": policy, "days": 1},
        "goal": draw(st.sampled_from([None, {"type": "order"}, {"type": "order"}])),
    }


def streams(customers: int):
    """Events between ticks: (tick, minutes before it, customer, what)."""
    one = st.tuples(
        st.integers(1, TICKS),
        st.integers(1, 29),
        st.integers(0, customers - 1),
        st.sampled_from(["go", "go", "click", "order", "order"]),
    )
    return st.lists(one, min_size=2, max_size=10)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_engine_paths_equal_the_reference(db, data, monkeypatch):
    monkeypatch.setenv(effects.SECRET_SETTING, "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
    n = next(_n)
    go, click = f"Go{n}", f"Click{n}"
    vip = data.draw(st.lists(st.booleans(), min_size=3, max_size=3))
    zones = data.draw(st.lists(st.sampled_from(ZONES), min_size=3, max_size=3))
    with transaction(db.sessions) as s:
        people = [
            person(s, f"x{n}_{i}", attributes={"vip": vip[i]}, time_zone=zones[i]).id
            for i in range(3)
        ]
        tid = template(s, name=f"t{n}").id
    raw = data.draw(definitions(tid, go, click))
    jid = journey(db, raw)
    stream = sorted(data.draw(streams(3)), key=lambda e: (e[0], -e[1]))
    pump(db, T0)  # the setup's own events are behind us

    timeline, position = [], 0
    for k in range(TICKS + 1):
        now = T0 + k * TICK
        inputs = []
        for tick, before, who, what in stream:
            if tick != k:
                continue
            when, cid = now - timedelta(minutes=before), people[who]
            position += 1
            if what == "order":
                kind, name = "order.completed", None
                log(db, event(kind, cid, order_id=position, total_cents=100 * position), when)
            else:
                kind, name = "event.tracked", go if what == "go" else click
                log(db, event(kind, cid, name=name, message_id=f"x{n}-{position}"), when)
            inputs.append(reference.Input(position, kind, cid, when, name, 100 * position))
        if inputs:  # nothing new in the log otherwise
            pump(db, now)
        engine.run_due(db.sessions, now=now)
        timeline.append((now, inputs, []))

    expected = reference.run(
        parse(raw),
        journey_id=jid,
        zones=dict(zip(people, zones, strict=True)),
        branch=lambda cid, rules, now: vip[people.index(cid)],
        timeline=timeline,
    )
    got = paths(db, jid)
    with transaction(db.sessions) as s:
        service.archive(session=s, journey_id=jid, now=T0)
    key = lambda r: r["customer_id"]  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
