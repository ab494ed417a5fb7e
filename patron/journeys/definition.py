"""A journey version's definition: JSON parsed into frozen dataclasses and validated (pure).

`parse(raw, extra_types=...)` refuses a bad definition with `DefinitionError`, naming the step:
unknown step types or targets, an unreachable step, a wait_for without a timeout, a loop with
no wait in it, split percentages not summing to 100. Whether templates exist and rule trees
are valid needs the database: the service checks them (`template_ids`, `rule_trees`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from patron.journeys import schedule_def
from patron.journeys.checks import DefinitionError, clock, need, weekdays
from patron.journeys.checks import integer as _int
from patron.journeys.rules import WHERE_OPS

MAX_STEPS = 200
MAX_ID = 2**63 - 1
TEN_YEARS = 10 * 365 * 86400
MAX_DAYS = 3650
# Scheduled triggers are evaluated by the `journeys.schedule` job, not the event log.
SCHEDULED = schedule_def.SCHEDULED
TRIGGERS = (
    "segment_entered",
    "segment_exited",
    "lifecycle_changed",
    "event",
    "order",
    "api",
    *SCHEDULED,
)
REENTRY = ("never", "after_days", "always")
WAIT_TYPES = frozenset({"wait", "wait_until", "wait_for"})


@dataclass(frozen=True)
class Where:
    """A property filter: property op value."""

    property: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Trigger:
    """What enrols a customer."""

    type: str
    segment_id: int | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    name: str | None = None
    where: tuple[Where, ...] = ()
    nth: int | None = None
    min_total_minor: int | None = None
    sku: str | None = None
    category: str | None = None
    date_field: str | None = None
    attribute: str | None = None
    yearly: bool = True
    offset_days: int = 0
    at: str | None = None
    weekdays: tuple[int, ...] | None = None
    of: str | None = None
    days: int | None = None


@dataclass(frozen=True)
class Step:
    """A step: its id, type, and the raw fields of its type."""

    id: str
    type: str
    next: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)

    def targets(self) -> dict[str, str | None]:
        """Where the step can go, by branch label."""
        if self.type == "wait_for":
            return {"happened": self.fields["happened"], "timed_out": self.fields["timed_out"]}
        if self.type == "branch":
            return {"yes": self.fields["yes"], "no": self.fields["no"]}
        if self.type == "split":
            return {str(i): b["next"] for i, b in enumerate(self.fields["branches"])}
        if self.type == "exit":
            return {}
        return {"next": self.next}


@dataclass(frozen=True)
class Definition:
    """A parsed, validated journey definition."""

    trigger: Trigger
    start: str
    steps: Mapping[str, Step]
    entry_filter: dict | None = None
    reentry: str = "never"
    reentry_days: int = 0
    goal: dict | None = None
    exit_on_left_segment: bool = False
    exit_on_unsubscribed: bool = False

    def template_ids(self) -> dict[str, int]:
        """The template each send step uses, by step id."""
        return {s.id: s.fields["template_id"] for s in self.steps.values() if s.type == "send"}

    def rule_trees(self) -> dict[str, dict]:
        """Every rule tree to validate, by where it sits (step id or '$entry_filter')."""
        found = {"$entry_filter": self.entry_filter} if self.entry_filter else {}
        for s in self.steps.values():
            tree = s.fields.get("rules") or s.fields.get("condition")
            if tree:
                found[s.id] = tree
        return found


def _where(raw: Any, where: str) -> tuple[Where, ...]:
    """Property filters."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 20:
        raise DefinitionError(where, "where: a list of at most 20 filters is required")
    out = []
    for item in raw:
        prop = need(item, "property", str, where)
        op = item.get("op", "eq")
        if op not in WHERE_OPS:
            raise DefinitionError(where, f"where: op must be one of {', '.join(WHERE_OPS)}")
        out.append(Where(prop, op, item.get("value")))
    return tuple(out)


def _trigger(raw: Any) -> Trigger:
    """The trigger part."""
    w = "$trigger"
    kind = need(raw, "type", str, w)
    if kind not in TRIGGERS:
        raise DefinitionError(w, f"type must be one of {', '.join(TRIGGERS)}")
    if kind in ("segment_entered", "segment_exited"):
        return Trigger(kind, segment_id=_int(raw, "segment_id", w, 1, MAX_ID))
    if kind == "lifecycle_changed":
        return Trigger(
            kind,
            from_stage=need(raw, "from", str, w, optional=True),
            to_stage=need(raw, "to", str, w, optional=True),
        )
    if kind == "event":
        return Trigger(kind, name=need(raw, "name", str, w), where=_where(raw.get("where"), w))
    if kind == "order":
        nth = _int(raw, "nth", w, 1, 1_000_000, optional=True)
        total = _int(raw, "min_total_minor", w, 0, MAX_ID, optional=True)
        return Trigger(
            kind,
            nth=nth,
            min_total_minor=total,
            sku=need(raw, "sku", str, w, optional=True),
            category=need(raw, "category", str, w, optional=True),
        )
    if kind in SCHEDULED:
        return schedule_def.scheduled(raw, kind, Trigger)
    return Trigger(kind)


def _step_fields(raw: dict, kind: str, sid: str) -> dict:
    """Check and pick the fields of a built-in step type."""
    if kind == "send":
        out = {"template_id": _int(raw, "template_id", sid, 1, MAX_ID)}
        out["channel"] = raw.get("channel", "email")
        out["kind"] = raw.get("kind", "marketing")
        if out["kind"] not in ("marketing", "transactional"):
            raise DefinitionError(sid, "kind must be marketing or transactional")
        if not isinstance(out["channel"], str):
            raise DefinitionError(sid, "channel: a str is required")
        return out
    if kind in ("webhook", "notify"):
        return schedule_def.effect_fields(raw, kind, sid)
    if kind == "wait":
        return {"seconds": _int(raw, "seconds", sid, 1, TEN_YEARS)}
    if kind == "wait_until":
        return _wait_until(raw, sid)
    if kind == "wait_for":
        return _wait_for(raw, sid)
    if kind == "branch":
        return {
            "rules": need(raw, "rules", dict, sid),
            "yes": need(raw, "yes", str, sid),
            "no": need(raw, "no", str, sid),
        }
    if kind == "split":
        return _split(raw, sid)
    if kind == "update_profile":
        attributes = need(raw, "attributes", dict, sid, optional=True) or {}
        add = need(raw, "add_tags", list, sid, optional=True) or []
        remove = need(raw, "remove_tags", list, sid, optional=True) or []
        if not (attributes or add or remove):
            raise DefinitionError(sid, "give attributes, add_tags or remove_tags")
        if not all(isinstance(t, str) and t for t in (*add, *remove)):
            raise DefinitionError(sid, "tags are non-empty strings")
        return {"attributes": attributes, "add_tags": add, "remove_tags": remove}
    return {}


def _wait_until(raw: dict, sid: str) -> dict:
    """A wait until a local time of day, on some weekdays."""
    need(raw, "at", str, sid)
    return {"at": clock(raw, sid), "weekdays": weekdays(raw, sid)}


def _wait_for(raw: dict, sid: str) -> dict:
    """A wait for an event or a condition, with a timeout and two branches."""
    timeout = raw.get("timeout_seconds")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 < timeout <= TEN_YEARS:
        raise DefinitionError(sid, "timeout_seconds: a wait_for needs a timeout up to ten years")
    event, condition = raw.get("event"), raw.get("condition")
    if (event is None) == (condition is None):
        raise DefinitionError(sid, "give exactly one of event or condition")
    out: dict = {"timeout_seconds": timeout, "event": None, "condition": None}
    if event is not None:
        out["event"] = {
            "name": need(event, "name", str, sid),
            "where": _where(event.get("where"), sid),
        }
    else:
        out["condition"] = need(raw, "condition", dict, sid)
    out["happened"] = need(raw, "happened", str, sid)
    out["timed_out"] = need(raw, "timed_out", str, sid)
    return out


def _split(raw: dict, sid: str) -> dict:
    """A random split by percentages."""
    branches = need(raw, "branches", list, sid)
    if not 2 <= len(branches) <= 10:
        raise DefinitionError(sid, "branches: 2 to 10 are required")
    out = []
    for b in branches:
        percent = need(b, "percent", int, sid)
        if percent <= 0:
            raise DefinitionError(sid, "percent: each branch above 0")
        out.append({"percent": percent, "next": need(b, "next", str, sid)})
    if sum(b["percent"] for b in out) != 100:
        raise DefinitionError(sid, "branches: percentages must sum to 100")
    return {"branches": out}


def _steps(raw: Any, extra_types: Mapping[str, Callable[[dict, str], dict]]) -> dict[str, Step]:
    """The steps, each checked on its own."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
        raise DefinitionError("$steps", f"a list of 1 to {MAX_STEPS} steps is required")
    steps: dict[str, Step] = {}
    for item in raw:
        sid = need(item, "id", str, "$steps")
        if not 0 < len(sid) <= 64 or sid.startswith("$"):
            raise DefinitionError("$steps", "a step id has 1 to 64 characters, not starting with $")
        if sid in steps:
            raise DefinitionError(sid, "two steps share this id")
        kind = need(item, "type", str, sid)
        if kind in BUILTIN:
            fields = _step_fields(item, kind, sid)
        elif kind in extra_types:
            fields = extra_types[kind](item, sid)
        else:
            known = ", ".join(sorted({*BUILTIN, *extra_types}))
            raise DefinitionError(sid, f"unknown step type {kind!r} (known: {known})")
        nxt = need(item, "next", str, sid, optional=True)
        steps[sid] = Step(sid, kind, nxt, fields)
    return steps


BUILTIN = frozenset(
    {
        "send",
        "wait",
        "wait_until",
        "wait_for",
        "branch",
        "split",
        "update_profile",
        "webhook",
        "notify",
        "exit",
    }
)
# The step-run outcome of the steps that simply go on to `next` (engine and reference agree).
DONE_OUTCOME = {
    "send": "sent",
    "update_profile": "updated",
    "webhook": "queued",
    "notify": "notified",
}


def _check_graph(start: str, steps: Mapping[str, Step]) -> None:
    """Targets exist, every step is reachable, every loop passes a wait."""
    if start not in steps:
        raise DefinitionError("$start", f"unknown step {start!r}")
    for step in steps.values():
        for label, target in step.targets().items():
            if target is not None and target not in steps:
                raise DefinitionError(step.id, f"{label}: unknown step {target!r}")
    seen, todo = {start}, [start]
    while todo:
        for target in steps[todo.pop()].targets().values():
            if target is not None and target not in seen:
                seen.add(target)
                todo.append(target)
    for sid in steps:
        if sid not in seen:
            raise DefinitionError(sid, "unreachable from the start step")
    _check_loops(steps)


def _check_loops(steps: Mapping[str, Step]) -> None:
    """A cycle through instant steps only would run forever in one go."""
    state: dict[str, int] = {}

    def visit(sid: str) -> None:
        state[sid] = 1
        for target in steps[sid].targets().values():
            if target is None or steps[target].type in WAIT_TYPES:
                continue
            if state.get(target) == 1:
                raise DefinitionError(target, "a loop with no wait step in it")
            if target not in state:
                visit(target)
        state[sid] = 2

    for sid, step in steps.items():
        if sid not in state and step.type not in WAIT_TYPES:
            visit(sid)


def _options(raw: dict) -> dict:
    """Entry filter, re-entry, goal and exits."""
    reentry = raw.get("reentry") or {"policy": "never"}
    policy = need(reentry, "policy", str, "$reentry")
    if policy not in REENTRY:
        raise DefinitionError("$reentry", f"policy must be one of {', '.join(REENTRY)}")
    days = _int(reentry, "days", "$reentry", 1, MAX_DAYS) if policy == "after_days" else 0
    goal = raw.get("goal")
    if goal is not None:
        kind = need(goal, "type", str, "$goal")
        if kind not in ("order", "event"):
            raise DefinitionError("$goal", "type must be order or event")
        goal = {
            "type": kind,
            "within_days": need(goal, "within_days", int, "$goal", optional=True),
        }
        if kind == "event":
            goal["name"] = need(raw["goal"], "name", str, "$goal")
    exits = raw.get("exit_on") or {}
    if not isinstance(exits, dict):
        raise DefinitionError("$exit_on", "an object is required")
    entry = raw.get("entry_filter")
    if entry is not None and not isinstance(entry, dict):
        raise DefinitionError("$entry_filter", "a rule tree is required")
    return {
        "entry_filter": entry,
        "reentry": policy,
        "reentry_days": days,
        "goal": goal,
        "exit_on_left_segment": bool(exits.get("left_segment")),
        "exit_on_unsubscribed": bool(exits.get("unsubscribed")),
    }


def _plain_json(raw: Any) -> None:
    """Refuse what JSON columns cannot store (NaN, infinities)."""
    try:
        json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DefinitionError("$definition", f"not storable as JSON: {exc}")


def parse(
    raw: Any, *, extra_types: Mapping[str, Callable[[dict, str], dict]] | None = None
) -> Definition:
    """Parse and validate a definition; extra_types parse the fields of contributed steps."""
    if not isinstance(raw, dict):
        raise DefinitionError("$definition", "an object is required")
    _plain_json(raw)
    trigger = _trigger(raw.get("trigger"))
    steps = _steps(raw.get("steps"), extra_types or {})
    start = need(raw, "start", str, "$start", optional=True) or next(iter(steps))
    _check_graph(start, steps)
    options = _options(raw)
    if options["exit_on_left_segment"] and trigger.type != "segment_entered":
        raise DefinitionError("$exit_on", "left_segment needs a segment_entered trigger")
    return Definition(trigger=trigger, start=start, steps=steps, **options)
