"""What the dashboard pages of journeys show: list rows and the builder's data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from patron.analytics.lifecycle import STAGES
from patron.journeys import definition, rules, service, steps
from patron.messages import service as messages
from patron.segments import service as segments

EMPTY = {"trigger": {"type": "segment_entered"}, "steps": []}
ALLOWED = {
    "draft": ("resume", "archive"),
    "live": ("pause", "archive"),
    "paused": ("resume", "archive"),
    "archived": (),
}
# The attribute operators the simple condition row offers (segments' attribute condition).
ATTRIBUTE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "is_set", "not_set")


def list_rows(session: Session) -> list[dict]:
    """Every journey with its version number, counts and the state moves it allows."""
    journeys = service.list_journeys(session=session, limit=500)
    ids = [j.id for j in journeys]
    counts = service.counts(session=session, journey_ids=ids)
    numbers = service.version_numbers(
        session=session, version_ids=[j.current_version_id for j in journeys]
    )
    return [
        {
            "journey": j,
            "version": numbers.get(j.current_version_id),
            "enrolled": sum(counts[j.id].values()),
            "active": sum(counts[j.id].get(s, 0) for s in rules.LIVE_STATES),
            "converted": counts[j.id].get("converted", 0),
            "actions": ALLOWED.get(j.state, ()),
        }
        for j in journeys
    ]


def _errors(error) -> list[dict]:
    """The refused definition's problems, each naming a step (or a top field) if it can."""
    if error is None:
        return []
    details = [d for d in (error.details or []) if isinstance(d, dict) and "step" in d]
    return details or [{"step": None, "message": error.message}]


def page_data(session: Session, journey, raw: dict, error) -> dict:
    """The builder script's data: definition, choices, live counts per step, errors."""
    templates = [
        {"id": t.id, "name": t.name, "channel": t.channel, "kind": t.kind}
        for t in messages.list_templates(session=session)
    ]
    found = [{"id": s.id, "name": s.name} for s in segments.list_segments(session=session)]
    return {
        "definition": raw,
        "journey_id": journey.id if journey is not None else None,
        "templates": templates,
        "segments": found,
        "step_types": sorted({*definition.BUILTIN, *steps.contributed()}),
        "trigger_types": list(definition.TRIGGERS),
        "where_ops": list(rules.WHERE_OPS),
        "attribute_ops": list(ATTRIBUTE_OPS),
        "stages": list(STAGES),
        "counts": service.step_counts(session=session, journey_id=journey.id) if journey else {},
        "errors": _errors(error),
    }
