"""REST API of journeys: create, read, list, version, pause, resume, archive, enrol, dry run,
report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.errors import InvalidInput
from patron.journeys import report, service
from patron.web import pagination

router = APIRouter(prefix="/api/journeys", tags=["journeys"])
Id = Field(..., ge=1, le=2**63 - 1)


class JourneyBody(BaseModel):
    """A new journey: name and its first definition (see README, Journeys)."""

    name: str = Field(..., min_length=1, max_length=255)
    description: str = Field("", max_length=10_000)
    definition: dict[str, Any]


class VersionBody(BaseModel):
    """An edited definition, saved as a new version."""

    definition: dict[str, Any]


class EnrolBody(BaseModel):
    """The customer to enrol."""

    customer_id: int = Id


class JourneyRead(BaseModel):
    """A journey as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    state: str
    current_version_id: int | None
    playbook: str | None
    created_at: datetime
    updated_at: datetime


class JourneyDetail(JourneyRead):
    """A journey with its current definition and enrolments by state."""

    version: int
    definition: dict[str, Any]
    enrolments: dict[str, int]


class EnrolmentRead(BaseModel):
    """An enrolment as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    journey_id: int
    version_id: int
    customer_id: int
    state: str
    step_id: str | None
    due_at: datetime | None
    entered_at: datetime
    exit_reason: str | None
    last_error: str | None


class EnrolResult(BaseModel):
    """Whether the customer entered, and their live enrolment if any."""

    entered: bool
    enrolment: EnrolmentRead | None


class DryRunBody(BaseModel):
    """The window of a dry run, and an unsaved definition (else the journey's current one)."""

    days: int = Field(30, ge=1, le=365)
    definition: dict[str, Any] | None = None


class DryRunStep(BaseModel):
    """How many passes reached a step, and their outcomes (sent, happened, yes, branch 0...)."""

    id: str
    type: str
    reached: int
    outcomes: dict[str, int]


class DryRunMessage(BaseModel):
    """The messages a send step would have queued."""

    step: str
    template_id: int
    template: str | None
    count: int
    sample: list[int]


class DryRunResult(BaseModel):
    """What the journey would have done over the window; nothing was sent or written."""

    days: int
    since: datetime
    until: datetime
    customers: int
    max_customers: int
    truncated: bool
    entered: int
    customers_entered: int
    steps: list[DryRunStep]
    converted: int
    revenue_minor: int
    finished: dict[str, int]
    messages: list[DryRunMessage]
    notes: list[str]


class StepMessages(BaseModel):
    """A send step's messages: queued rows, accepted, still delivered, human-clicked."""

    messages: int
    sent: int
    delivered: int
    clicked: int


class ReportStep(BaseModel):
    """Enrolments that reached a step, its outcomes (runs) and, for sends, its messages."""

    id: str
    type: str | None
    reached: int
    percent: int
    outcomes: dict[str, int]
    messages: StepMessages | None


class Funnel(BaseModel):
    """Entered, each step, converted with revenue, exited by reason, failed by reason."""

    entered: int
    states: dict[str, int]
    steps: list[ReportStep]
    converted: int
    revenue_minor: int
    exited: dict[str, int]
    failed: int
    failed_reasons: dict[str, int]


class VersionFunnel(Funnel):
    """The funnel of one version."""

    version_id: int
    number: int
    created_at: datetime


class JourneyReport(BaseModel):
    """A journey's funnel over all versions, and per version (newest first)."""

    journey_id: int
    name: str
    state: str
    current_version_id: int | None
    total: Funnel
    versions: list[VersionFunnel]


JourneyPage = pagination.Page[JourneyRead]


def _detail(session: Session, journey) -> JourneyDetail:
    """A journey with its current version and counts."""
    version = service.current_version(session=session, journey_id=journey.id)
    counts = service.counts(session=session, journey_ids=[journey.id])[journey.id]
    base = JourneyRead.model_validate(journey).model_dump()
    return JourneyDetail(
        **base, version=version.number, definition=version.definition, enrolments=counts
    )


@router.post("", status_code=201, response_model=JourneyDetail, dependencies=WRITE)
def create_journey(body: JourneyBody, session: Session = SESSION):
    """Create a draft journey; a bad definition is refused naming the step."""
    journey = service.create_journey(session=session, now=utcnow(), **body.model_dump())
    return _detail(session, journey)


@router.get("", response_model=JourneyPage, dependencies=READ)
def list_journeys(
    limit: int = pagination.LIMIT,
    cursor: str | None = pagination.CURSOR,
    session: Session = READ_SESSION,
):
    """Journeys by id, one page at a time."""
    after = pagination.decode(cursor)
    rows = service.list_journeys(session=session, limit=limit + 1, after=after.id if after else 0)
    page = pagination.page(rows, limit, key=lambda j: (j.id, j.id))
    items = [JourneyRead.model_validate(j) for j in page["items"]]
    return JourneyPage(items=items, next_cursor=page["next_cursor"])


@router.post("/dry-run", response_model=DryRunResult, dependencies=READ)
def dry_run_definition(body: DryRunBody, session: Session = READ_SESSION):
    """Dry-run an unsaved definition over the last `days` days: nothing is sent or written."""
    if body.definition is None:
        raise InvalidInput("definition: required")
    return service.dry_run(
        session=session, now=utcnow(), days=body.days, definition=body.definition
    )


@router.post("/{journey_id}/dry-run", response_model=DryRunResult, dependencies=READ)
def dry_run_journey(journey_id: int, body: DryRunBody, session: Session = READ_SESSION):
    """Dry-run a journey (or an edited definition of it) over the last `days` days."""
    return service.dry_run(
        session=session,
        now=utcnow(),
        days=body.days,
        journey_id=journey_id,
        definition=body.definition,
    )


@router.get("/{journey_id}", response_model=JourneyDetail, dependencies=READ)
def get_journey(journey_id: int, session: Session = READ_SESSION):
    """One journey with its current definition."""
    return _detail(session, service.get_journey(session=session, journey_id=journey_id))


@router.get("/{journey_id}/report", response_model=JourneyReport, dependencies=READ)
def journey_report(journey_id: int, session: Session = READ_SESSION):
    """The funnel of a journey, per version and in total."""
    return report.report(session=session, journey_id=journey_id)


@router.post("/{journey_id}/versions", response_model=JourneyDetail, dependencies=WRITE)
def new_version(journey_id: int, body: VersionBody, session: Session = SESSION):
    """Save an edited definition as a new version; enrolled customers stay on theirs."""
    service.new_version(
        session=session, journey_id=journey_id, definition=body.definition, now=utcnow()
    )
    return _detail(session, service.get_journey(session=session, journey_id=journey_id))


@router.post("/{journey_id}/pause", response_model=JourneyRead, dependencies=WRITE)
def pause_journey(journey_id: int, session: Session = SESSION):
    """Stop entries and steps."""
    return service.pause(session=session, journey_id=journey_id, now=utcnow())


@router.post("/{journey_id}/resume", response_model=JourneyRead, dependencies=WRITE)
def resume_journey(journey_id: int, session: Session = SESSION):
    """Make a draft or paused journey live."""
    return service.resume(session=session, journey_id=journey_id, now=utcnow())


@router.post("/{journey_id}/archive", response_model=JourneyRead, dependencies=WRITE)
def archive_journey(journey_id: int, session: Session = SESSION):
    """End the journey for good (live enrolments exit)."""
    return service.archive(session=session, journey_id=journey_id, now=utcnow())


@router.post("/{journey_id}/enrol", response_model=EnrolResult, dependencies=WRITE)
def enrol_customer(journey_id: int, body: EnrolBody, session: Session = SESSION):
    """Enrol a customer (entry filter and re-entry policy apply)."""
    row, entered = service.enrol(
        session=session, journey_id=journey_id, customer_id=body.customer_id, now=utcnow()
    )
    read = EnrolmentRead.model_validate(row) if row is not None else None
    return EnrolResult(entered=entered, enrolment=read)
