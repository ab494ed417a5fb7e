"""A pure reference interpreter of journeys, the oracle the engine is tested against.

It follows the engine's documented rules in the simplest way: at each tick, events are taken
in runs of one type (enrol first, then goals, exits and wake-ups for enrolments entered
before each event), then every due enrolment runs its steps at the tick's time. The engine
must give each customer the same path, step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from patron.journeys import rules
from patron.journeys.definition import DONE_OUTCOME, Definition

LIVE = rules.LIVE_STATES


@dataclass(frozen=True)
class Input:
    """One event of the stream: a tracked event (name) or an order (total), at a time."""

    position: int
    type: str  # "event.tracked" | "order.completed"
    customer_id: int
    at: datetime
    name: str | None = None
    total_minor: int = 0
    properties: dict = field(default_factory=dict)


@dataclass
class Run:
    """One enrolment as the reference sees it."""

    customer_id: int
    entered_at: datetime
    entered_position: int | None
    step: str
    due: datetime | None
    state: str = "active"
    iteration: int = 0
    step_entered_at: datetime | None = None
    reason: str | None = None
    revenue: int = 0
    path: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class Reference:
    """The state of one journey over a stream: every enrolment, in order of entry."""

    d: Definition
    journey_id: int
    zones: dict[int, str | None]
    branch: Callable[[int, dict, datetime], bool]
    runs: list[Run] = field(default_factory=list)

    def _live(self, customer_id: int) -> Run | None:
        return next(
            (r for r in self.runs if r.customer_id == customer_id and r.state in LIVE), None
        )

    def _may_enter(self, customer_id: int, now: datetime) -> bool:
        mine = [r for r in self.runs if r.customer_id == customer_id]
        last = max((r.entered_at for r in mine), default=None)
        return rules.reentry_allowed(
            self.d.reentry,
            self.d.reentry_days,
            last_entered_at=last,
            live=any(r.state in LIVE for r in mine),
            now=now,
        )

    def enter(self, customer_id: int, position: int | None, now: datetime) -> bool:
        """Enrol a customer when the rules allow it."""
        if not self._may_enter(customer_id, now):
            return False
        self.runs.append(Run(customer_id, now, position, self.d.start, now, step_entered_at=now))
        return True

    def _fires(self, event: Input) -> bool:
        t = self.d.trigger
        if t.type == "event":
            return (
                event.type == "event.tracked"
                and event.name == t.name
                and rules.where_matches(t.where, event.properties)
            )
        return False

    def _react(self, r: Run, event: Input, now: datetime) -> None:
        goal = self.d.goal
        if goal is not None and (
            goal["within_days"] is None
            or event.at <= r.entered_at + timedelta(days=goal["within_days"])
        ):
            if goal["type"] == "order" and event.type == "order.completed":
                r.revenue = event.total_minor
                self._finish(r, "converted", "goal", now)
                return
            if (
                goal["type"] == "event"
                and event.type == "event.tracked"
                and (event.name == goal["name"])
            ):
                self._finish(r, "converted", "goal", now)
                return
        step = self.d.steps[r.step]
        if r.state != "waiting" or step.type != "wait_for" or event.at < r.step_entered_at:
            return
        wanted = step.fields["event"]
        tracked = wanted and event.type == "event.tracked" and event.name == wanted["name"]
        if tracked and rules.where_matches(wanted["where"], event.properties):
            self._resume(r, step.fields["happened"], "happened", now)

    def take(self, events: Sequence[Input], now: datetime) -> None:
        """The intake of one tick's events."""
        for _type, group in groupby(events, key=lambda e: e.type):
            run = list(group)
            seen: set[int] = set()
            for event in run:
                if event.customer_id not in seen and self._fires(event):
                    seen.add(event.customer_id)
                    self.enter(event.customer_id, event.position, now)
            for event in run:
                r = self._live(event.customer_id)
                if r is None or (
                    r.entered_position is not None and r.entered_position >= event.position
                ):
                    continue
                if r.entered_position is None and event.at < r.entered_at:
                    continue
                self._react(r, event, now)

    def _finish(self, r: Run, state: str, reason: str, now: datetime) -> None:
        r.state, r.reason, r.due = state, reason, None

    def _move(self, r: Run, target: str | None, now: datetime) -> None:
        if target is None:
            self._finish(r, "completed", "end", now)
        else:
            r.step, r.state, r.due, r.step_entered_at = target, "active", now, now

    def _resume(self, r: Run, target: str | None, outcome: str, now: datetime) -> None:
        step_id, iteration, _old = r.path[-1]
        r.path[-1] = (step_id, iteration, outcome)
        r.iteration += 1
        self._move(r, target, now)

    def _wait(self, r: Run, until: datetime, now: datetime) -> None:
        r.state, r.due, r.step_entered_at = "waiting", until, now

    def _step(self, r: Run, now: datetime) -> bool:
        step = self.d.steps[r.step]
        f = step.fields
        mark = (step.id, r.iteration)
        if step.type == "send":
            r.path.append((*mark, "sent"))
        elif step.type in ("wait", "wait_until", "wait_for"):
            r.path.append((*mark, "waiting"))
            if step.type == "wait":
                until = now + timedelta(seconds=f["seconds"])
            elif step.type == "wait_until":
                zone = self.zones.get(r.customer_id)
                until = rules.next_local_time(
                    now, zone_name=zone, at=f["at"], weekdays=f["weekdays"]
                )
            else:
                until = now + timedelta(seconds=f["timeout_seconds"])
            self._wait(r, until, now)
            return False
        elif step.type == "branch":
            yes = self.branch(r.customer_id, f["rules"], now)
            r.path.append((*mark, "yes" if yes else "no"))
            self._move(r, f["yes"] if yes else f["no"], now)
            return True
        elif step.type == "split":
            value = rules.bucket(self.journey_id, step.id, r.customer_id)
            index = rules.split_branch([b["percent"] for b in f["branches"]], value)
            r.path.append((*mark, f"branch {index}"))
            self._move(r, f["branches"][index]["next"], now)
            return True
        elif step.type == "exit":
            r.path.append((*mark, "exit"))
            self._finish(r, "completed", "exit step", now)
            return False
        else:
            r.path.append((*mark, DONE_OUTCOME.get(step.type, "done")))
        self._move(r, step.next, now)
        return True

    def tick(self, now: datetime) -> None:
        """Run every due enrolment's steps at this time."""
        for r in self.runs:
            while r.state in LIVE and r.due is not None and r.due <= now:
                if r.state == "waiting":
                    step = self.d.steps[r.step]
                    label = "timed_out" if step.type == "wait_for" else "next"
                    self._resume(
                        r, step.targets()[label], label if label != "next" else "done", now
                    )
                    continue
                if not self._step(r, now):
                    break


def run(
    d: Definition,
    *,
    journey_id: int,
    zones: dict[int, str | None],
    branch: Callable[[int, dict, datetime], bool],
    timeline: Iterable[tuple[datetime, Sequence[Input], Sequence[int]]],
) -> list[dict[str, Any]]:
    """Each tick is (time, events, customers enrolled through the API); returns enrolments."""
    ref = Reference(d, journey_id, zones, branch)
    for now, events, api in timeline:
        for customer_id in api:
            ref.enter(customer_id, None, now)
        ref.take(events, now)
        ref.tick(now)
    return [
        {
            "customer_id": r.customer_id,
            "state": r.state,
            "reason": r.reason,
            "revenue": r.revenue,
            "path": r.path,
        }
        for r in ref.runs
    ]
