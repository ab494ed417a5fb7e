"""The report of a journey: its funnel per version and over all versions, and customer history.

Every count is a GROUP BY over enrolments, step runs or the outbox (through messages' read
module); Python only arranges the grouped rows. A step is reached by the enrolments that ran
it (a loop's second pass counts once); its outcomes count runs. Revenue is the converting
orders' (`revenue_minor`, set by the goal within its window).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patron.journeys import service
from patron.journeys.tables import Enrolment, Journey, JourneyVersion, StepRun
from patron.messages import read as messages

MESSAGE_KEYS = ("messages", "sent", "delivered", "clicked")
HISTORY_ROWS = 50


def _empty(steps: list[dict]) -> dict:
    """A funnel with nothing in it yet, over the given (id, type) steps."""
    return {
        "entered": 0,
        "states": {},
        "steps": [
            {"id": s["id"], "type": s["type"], "reached": 0, "outcomes": {}, "messages": None}
            for s in steps
        ],
        "converted": 0,
        "revenue_minor": 0,
        "exited": {},
        "failed": 0,
        "failed_reasons": {},
    }


def _steps_of(definition: dict) -> list[dict]:
    """A definition's steps, (id, type), in their saved order."""
    return [{"id": s.get("id"), "type": s.get("type")} for s in definition.get("steps", [])]


def _step(funnel: dict, step_id: str) -> dict:
    """The funnel's row of a step, added at the end for a step no definition lists."""
    for row in funnel["steps"]:
        if row["id"] == step_id:
            return row
    row = {"id": step_id, "type": None, "reached": 0, "outcomes": {}, "messages": None}
    funnel["steps"].append(row)
    return row


def _add_enrolments(session: Session, journey_id: int, funnels: dict) -> None:
    """Entered, states, converted, revenue and exits by reason, per version."""
    rows = session.execute(
        select(
            Enrolment.version_id,
            Enrolment.state,
            Enrolment.exit_reason,
            func.count(),
            func.coalesce(func.sum(Enrolment.revenue_minor), 0),
        )
        .where(Enrolment.journey_id == journey_id)
        .group_by(Enrolment.version_id, Enrolment.state, Enrolment.exit_reason)
    )
    for version_id, state, reason, n, revenue in rows:
        f = funnels[version_id]
        f["entered"] += n
        f["states"][state] = f["states"].get(state, 0) + n
        if state == "converted":
            f["converted"] += n
            f["revenue_minor"] += int(revenue)
        elif state == "exited":
            key = reason or "unknown"
            f["exited"][key] = f["exited"].get(key, 0) + n
    failures = session.execute(
        select(Enrolment.version_id, Enrolment.last_error, func.count())
        .where(Enrolment.journey_id == journey_id, Enrolment.state == "failed")
        .group_by(Enrolment.version_id, Enrolment.last_error)
    )
    for version_id, error, n in failures:
        f = funnels[version_id]
        f["failed"] += n
        key = (error or "unknown")[:200]
        f["failed_reasons"][key] = f["failed_reasons"].get(key, 0) + n


def _add_steps(session: Session, version_ids: list[int], funnels: dict) -> None:
    """Each step's reach (distinct enrolments) and outcomes (runs), per version."""
    in_versions = StepRun.version_id.in_(version_ids)
    reached = session.execute(
        select(StepRun.version_id, StepRun.step_id, func.count(func.distinct(StepRun.enrolment_id)))
        .where(in_versions)
        .group_by(StepRun.version_id, StepRun.step_id)
    )
    for version_id, step_id, n in reached:
        _step(funnels[version_id], step_id)["reached"] = n
    outcomes = session.execute(
        select(StepRun.version_id, StepRun.step_id, StepRun.outcome, func.count())
        .where(in_versions)
        .group_by(StepRun.version_id, StepRun.step_id, StepRun.outcome)
    )
    for version_id, step_id, outcome, n in outcomes:
        _step(funnels[version_id], step_id)["outcomes"][outcome] = n


def _add_messages(session: Session, version_ids: list[int], funnels: dict) -> None:
    """Messages, sent, delivered and clicked of each send step (the occurrence's step part)."""
    found = messages.counts_by_occurrence_prefix(session, source="journey", source_ids=version_ids)
    for (version_id, step_id), counts in found.items():
        _step(funnels[version_id], step_id)["messages"] = dict(counts)


def _merge(total: dict, part: dict) -> None:
    """Add one version's funnel into the all-versions total."""
    for key in ("entered", "converted", "revenue_minor", "failed"):
        total[key] += part[key]
    for key in ("states", "exited", "failed_reasons"):
        for name, n in part[key].items():
            total[key][name] = total[key].get(name, 0) + n
    for row in part["steps"]:
        into = _step(total, row["id"])
        into["type"] = into["type"] or row["type"]
        into["reached"] += row["reached"]
        for outcome, n in row["outcomes"].items():
            into["outcomes"][outcome] = into["outcomes"].get(outcome, 0) + n
        if row["messages"] is not None:
            was = into["messages"] or dict.fromkeys(MESSAGE_KEYS, 0)
            into["messages"] = {k: was[k] + row["messages"][k] for k in MESSAGE_KEYS}


def _bars(funnel: dict) -> None:
    """Each step's reach as a percentage of those who entered (the dashboard's bars)."""
    for row in funnel["steps"]:
        row["percent"] = round(100 * row["reached"] / funnel["entered"]) if funnel["entered"] else 0


def journey_report(session: Session, *, journey: Journey) -> dict:
    """The funnel of each version of a journey (newest first) and of all versions together."""
    versions = list(
        session.scalars(
            select(JourneyVersion)
            .where(JourneyVersion.journey_id == journey.id)
            .order_by(JourneyVersion.number.desc())
        )
    )
    funnels = {v.id: _empty(_steps_of(v.definition)) for v in versions}
    ids = list(funnels)
    _add_enrolments(session, journey.id, funnels)
    _add_steps(session, ids, funnels)
    _add_messages(session, ids, funnels)
    current = next((v for v in versions if v.id == journey.current_version_id), None)
    total = _empty(_steps_of(current.definition) if current else [])
    for v in versions:
        _merge(total, funnels[v.id])
    for f in (*funnels.values(), total):
        _bars(f)
    return {
        "journey_id": journey.id,
        "name": journey.name,
        "state": journey.state,
        "current_version_id": journey.current_version_id,
        "total": total,
        "versions": [
            {"version_id": v.id, "number": v.number, "created_at": v.created_at, **funnels[v.id]}
            for v in versions
        ],
    }


def report(*, session: Session, journey_id: int) -> dict:
    """The report of a journey by id (NotFound when there is none)."""
    journey = service.get_journey(session=session, journey_id=journey_id)
    return journey_report(session, journey=journey)


def customer_history(
    session: Session, *, customer_id: int, limit: int = HISTORY_ROWS
) -> list[dict]:
    """A customer's enrolments, newest first, with their journey's name and version number."""
    rows = session.execute(
        select(Enrolment, Journey.name, JourneyVersion.number)
        .join(Journey, Journey.id == Enrolment.journey_id)
        .join(JourneyVersion, JourneyVersion.id == Enrolment.version_id)
        .where(Enrolment.customer_id == customer_id)
        .order_by(Enrolment.id.desc())
        .limit(limit)
    )
    return [
        {
            "enrolment_id": e.id,
            "journey_id": e.journey_id,
            "journey": name,
            "version": number,
            "state": e.state,
            "step_id": e.step_id if e.state in ("active", "waiting") else None,
            "entered_at": e.entered_at,
            "finished_at": e.finished_at,
            "exit_reason": e.exit_reason,
            "revenue_minor": e.revenue_minor,
        }
        for e, name, number in rows
    ]


def panel_context(*, session: Session, customer_id: int) -> dict | None:
    """Context of the customer page's Journeys panel; None hides it for one never enrolled."""
    rows = customer_history(session, customer_id=customer_id)
    return {"journey_history": rows} if rows else None
