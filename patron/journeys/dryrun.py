"""Dry run: a journey over the last N days of real data, sending and writing nothing.

The window's domain events are read set-based from the event log (the trigger's type first,
then every event the intake reacts to, for the customers the trigger fired for), and fed
per customer in log order through the pure reference interpreter (`reference.py`), the
oracle the engine is tested against, so the dry run and the engine follow the same rules.
A simulated clock ticks at every event and at every due wait. Rule trees (entry filter,
branch, wait_for condition) are evaluated once, set-based, on today's data. At most
`MAX_CUSTOMERS` customers are simulated (the first the trigger fires for); the result says so.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.events import service as events
from patron.journeys import intake, reference, rules
from patron.journeys.definition import Definition
from patron.segments import service as segments

MAX_CUSTOMERS = 50_000
MAX_EVENTS = 2_000_000
MAX_TICKS = 1_000
MAX_DAYS = 365
CHUNK = 5_000
SAMPLE = 5
LIVE = rules.LIVE_STATES


@dataclass(frozen=True)
class Signal(reference.Input):
    """An input of the interpreter with what the database knew: trigger fired, exit reason."""

    fires: bool = False
    exit_reason: str | None = None


@dataclass
class DryRun(reference.Reference):
    """The reference interpreter, with entry filter, exits and wait_for conditions."""

    matched: dict[str, set[int]] = field(default_factory=dict)

    def _fires(self, event: Signal) -> bool:
        return event.fires

    def enter(self, customer_id: int, position: int | None, now: datetime) -> bool:
        """Enrol when the entry filter (today's data) and re-entry policy allow it."""
        tree = self.d.entry_filter
        if tree and customer_id not in self.matched[_key(tree)]:
            return False
        return super().enter(customer_id, position, now)

    def _react(self, r: reference.Run, event: Signal, now: datetime) -> None:
        before = (r.state, r.step, r.iteration)
        super()._react(r, event, now)  # goal, then a wait_for's event
        if (r.state, r.step, r.iteration) != before:
            return
        if event.exit_reason is not None:
            self._finish(r, "exited", event.exit_reason, now)
            return
        step = self.d.steps[r.step]
        condition = step.fields.get("condition") if step.type == "wait_for" else None
        if (
            condition
            and r.state == "waiting"
            and event.at >= r.step_entered_at
            and r.customer_id in self.matched[_key(condition)]
        ):
            self._resume(r, step.fields["happened"], "happened", now)


def _key(tree: dict) -> str:
    """A rule tree's identity."""
    return json.dumps(tree, sort_keys=True)


def _chunks(ids: list[int]):
    """Id lists small enough for an IN clause on both databases."""
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _context(session: Session, stored) -> tuple[dict, dict]:
    """Tracked events' properties and orders' places, as the intake computes them."""
    props: dict = {}
    nth: dict = {}
    tracked = [e for e in stored if e.type == "event.tracked"]
    orders = [e for e in stored if e.type == "order.completed"]
    for i in range(0, len(tracked), CHUNK):
        props.update(intake._properties(session, tracked[i : i + CHUNK]))
    for i in range(0, len(orders), CHUNK):
        nth.update(intake._nth(session, orders[i : i + CHUNK]))
    return props, nth


def _candidates(session: Session, d: Definition, since: datetime) -> tuple[list[int], bool]:
    """The first customers the trigger fires for in the window; whether the cap cut some."""
    kind = {v: k for k, v in intake.TRIGGER_OF.items()}.get(d.trigger.type)
    if kind is None:
        return [], False
    stored = events.read_window(session, since=since, types=[kind], limit=MAX_EVENTS)
    props, nth = _context(session, stored)
    found: dict[int, None] = {}
    for e in stored:
        if e.customer_id not in found and intake.fires(d.trigger, e, props=props, nth=nth):
            found[e.customer_id] = None
    ids = list(found)
    return sorted(ids[:MAX_CUSTOMERS]), len(ids) > MAX_CUSTOMERS


def _signals(session: Session, d: Definition, ids: list[int], since) -> dict[int, list]:
    """Every event the intake reacts to, per customer, in log order, as interpreter inputs."""
    out: dict[int, list[Signal]] = defaultdict(list)
    for chunk in _chunks(ids):
        stored = events.read_window(
            session, since=since, types=intake.EVENT_TYPES, customer_ids=chunk, limit=MAX_EVENTS
        )
        props, nth = _context(session, stored)
        for e in stored:
            if e.type == "order.completed" and e.data.get("replaced"):
                continue
            kind = intake.TRIGGER_OF.get(e.type)
            out[e.customer_id].append(
                Signal(
                    position=e.position,
                    type=e.type,
                    customer_id=e.customer_id,
                    at=e.occurred_at,
                    name=e.data.get("name"),
                    total_minor=int(e.data.get("total_cents") or 0),
                    properties=props.get(e.data.get("message_id")) or {},
                    fires=kind == d.trigger.type
                    and intake.fires(d.trigger, e, props=props, nth=nth),
                    exit_reason=intake._exit_reason(d, e),
                )
            )
    return out


def _matched(session: Session, d: Definition, ids: list[int], now) -> dict[str, set[int]]:
    """Who among these customers meets each rule tree of the definition now (set-based)."""
    found: dict[str, set[int]] = {}
    for tree in d.rule_trees().values():
        members: set[int] = set()
        for chunk in _chunks(ids):
            query = segments.matching(session=session, rules_json=tree, customer_ids=chunk, now=now)
            members.update(session.scalars(query))
        found[_key(tree)] = members
    return found


def _zones(session: Session, ids: list[int]) -> dict[int, str | None]:
    """Each customer's time zone."""
    zones: dict[int, str | None] = {}
    for chunk in _chunks(ids):
        query = select(Customer.id, Customer.time_zone).where(Customer.id.in_(chunk))
        zones.update(dict(session.execute(query).all()))
    return zones


def _advance(ref: DryRun, until: datetime, *, inclusive: bool) -> int:
    """Tick at every due time before `until` (or at it); returns the ticks taken."""
    ticks = 0
    while ticks < MAX_TICKS:
        dues = [r.due for r in ref.runs if r.state in LIVE and r.due is not None]
        due = min(dues, default=None)
        if due is None or due > until or (due == until and not inclusive):
            break
        ref.tick(due)
        ticks += 1
    return ticks


def simulate(
    d: Definition,
    *,
    journey_id: int,
    signals: list[Signal],
    zone: str | None,
    matched: dict[str, set[int]],
    until: datetime,
) -> list[reference.Run]:
    """One customer's enrolments over the window (pure)."""

    def branch(customer_id: int, tree: dict, _now) -> bool:
        return customer_id in matched[_key(tree)]

    if not signals:
        return []
    ref = DryRun(d, journey_id, {signals[0].customer_id: zone}, branch, matched=matched)
    for s in signals:
        _advance(ref, s.at, inclusive=False)
        ref.take([s], s.at)
        ref.tick(s.at)
    _advance(ref, until, inclusive=True)
    return ref.runs


def summarise(d: Definition, runs: list[reference.Run]) -> dict:
    """Entered, reached and outcome per step, converted, finished by reason (pure)."""
    reached: Counter = Counter()
    outcomes: dict[str, Counter] = defaultdict(Counter)
    sent: dict[str, list[int]] = defaultdict(list)
    ends: Counter = Counter()
    for r in runs:
        for step_id, _iteration, outcome in r.path:
            reached[step_id] += 1
            outcomes[step_id][outcome] += 1
            if outcome == "sent":
                sent[step_id].append(r.customer_id)
        ends["in progress" if r.state in LIVE else f"{r.state}: {r.reason}"] += 1
    converted = [r for r in runs if r.state == "converted"]
    steps = [
        {"id": s.id, "type": s.type, "reached": reached[s.id], "outcomes": dict(outcomes[s.id])}
        for s in d.steps.values()
    ]
    messages = [
        {
            "step": s.id,
            "template_id": s.fields["template_id"],
            "count": len(sent[s.id]),
            "sample": sorted(set(sent[s.id]))[:SAMPLE],
        }
        for s in d.steps.values()
        if s.type == "send"
    ]
    return {
        "entered": len(runs),
        "customers_entered": len({r.customer_id for r in runs}),
        "steps": steps,
        "converted": len(converted),
        "revenue_minor": sum(r.revenue for r in converted),
        "finished": dict(sorted(ends.items())),
        "messages": messages,
    }


def run(session: Session, *, d: Definition, journey_id: int, days: int, now: datetime) -> dict:
    """The dry run of a parsed definition over the last `days` days; reads only."""
    days = max(1, min(days, MAX_DAYS))
    since = now - timedelta(days=days)
    ids, truncated = _candidates(session, d, since)
    per_customer = _signals(session, d, ids, since)
    matched = _matched(session, d, ids, now)
    zones = _zones(session, ids)
    runs: list[reference.Run] = []
    for customer_id in ids:
        runs += simulate(
            d,
            journey_id=journey_id,
            signals=per_customer.get(customer_id, []),
            zone=zones.get(customer_id),
            matched=matched,
            until=now,
        )
    notes = ["rule trees (entry filter, branches, conditions) use today's data"]
    if d.trigger.type not in intake.TRIGGER_OF.values():
        notes.append(f"a {d.trigger.type} trigger has no events to replay: nobody enters")
    if truncated:
        notes.append(f"only the first {MAX_CUSTOMERS} customers the trigger fired for")
    return {
        "days": days,
        "since": since,
        "until": now,
        "customers": len(ids),
        "max_customers": MAX_CUSTOMERS,
        "truncated": truncated,
        **summarise(d, runs),
        "notes": notes,
    }
