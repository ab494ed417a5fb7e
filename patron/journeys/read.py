"""Set-based reads of journeys for other capabilities (experiments on a split step)."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from patron.journeys.tables import Enrolment, Journey, JourneyVersion, StepRun


def split_runs(*, journey_id: int, step_id: str) -> Select:
    """(customer_id, branch index, first time) of every customer a split step sent somewhere.

    The split's outcome is "branch {index}" (the engine's deterministic bucket); a customer
    who passed the step again keeps the first run.
    """
    branch = func.substr(StepRun.outcome, 8)
    return (
        select(
            Enrolment.customer_id.label("customer_id"),
            func.min(branch).label("branch"),
            func.min(StepRun.at).label("at"),
        )
        .join(Enrolment, Enrolment.id == StepRun.enrolment_id)
        .where(
            Enrolment.journey_id == journey_id,
            StepRun.step_id == step_id,
            StepRun.outcome.like("branch %"),
        )
        .group_by(Enrolment.customer_id)
    )


def version_ids(session: Session, *, journey_id: int) -> list[int]:
    """Every saved version of a journey (its messages' source ids)."""
    query = select(JourneyVersion.id).where(JourneyVersion.journey_id == journey_id)
    return list(session.scalars(query))


def split_step(session: Session, *, journey_id: int, step_id: str) -> dict | None:
    """The split step's fields in the journey's current version, or None."""
    journey = session.get(Journey, journey_id)
    if journey is None or journey.current_version_id is None:
        return None
    version = session.get(JourneyVersion, journey.current_version_id)
    for step in version.definition.get("steps", []):
        if step.get("id") == step_id and step.get("type") == "split":
            return step
    return None
