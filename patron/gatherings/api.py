"""REST API of gatherings under /api/gatherings (`read` to read, `write` to change), and the
signed attendance webhook of a webinar tool at /hooks/gatherings/attendance."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.errors import InvalidInput
from patron.gatherings import inbound, rules, service
from patron.gatherings.schemas import (
    AttendanceBody,
    GatheringCreate,
    GatheringRead,
    GatheringUpdate,
    InvitationRead,
    InviteBody,
    RsvpBody,
)

router = APIRouter(tags=["gatherings"])
PREFIX = "/api/gatherings"
_OBJECT = {"type": "object"}


@router.post(PREFIX, status_code=201, response_model=GatheringRead, dependencies=WRITE)
def create(body: GatheringCreate, session: Session = SESSION):
    """Creates an event with its invitation and reminder templates."""
    return service.create_gathering(
        session=session, data=rules.GatheringInput(**body.model_dump()), now=utcnow()
    )


@router.get(PREFIX, response_model=list[GatheringRead], dependencies=READ)
def list_all(session: Session = READ_SESSION):
    """Lists events, the latest first."""
    return service.list_gatherings(session=session)


@router.get(PREFIX + "/{gathering_id}", response_model=GatheringRead, dependencies=READ)
def get_one(gathering_id: int, session: Session = READ_SESSION):
    """One event."""
    return service.get_gathering(session=session, gathering_id=gathering_id)


@router.patch(PREFIX + "/{gathering_id}", response_model=GatheringRead, dependencies=WRITE)
def update(gathering_id: int, body: GatheringUpdate, session: Session = SESSION):
    """Changes an event's fields (a larger capacity seats the waitlist)."""
    changes = body.model_dump(exclude_unset=True)
    return service.update_gathering(
        session=session, gathering_id=gathering_id, changes=changes, now=utcnow()
    )


@router.get(PREFIX + "/{gathering_id}/counts", dependencies=READ)
def counts(gathering_id: int, session: Session = READ_SESSION) -> dict[str, int]:
    """How many guests are invited, going, waitlisted, maybe, declined and attended."""
    service.get_gathering(session=session, gathering_id=gathering_id)
    return service.counts(session=session, gathering_id=gathering_id)


@router.post(PREFIX + "/{gathering_id}/invitations", dependencies=WRITE)
def invite(gathering_id: int, body: InviteBody, session: Session = SESSION) -> dict[str, int]:
    """Invites a segment's members or customers by id; each is invited (and mailed) once."""
    now = utcnow()
    if body.segment_id is None and not body.customer_ids:
        raise InvalidInput("give a segment_id or customer_ids")
    total = 0
    if body.segment_id is not None:
        total += service.invite_segment(
            session=session, gathering_id=gathering_id, segment_id=body.segment_id, now=now
        )
    if body.customer_ids:
        total += service.invite_customers(
            session=session, gathering_id=gathering_id, customer_ids=body.customer_ids, now=now
        )
    return {"invited": total}


@router.get(PREFIX + "/{gathering_id}/guests", dependencies=READ)
def guests(
    gathering_id: int,
    status: str | None = Query(None, pattern="^(invited|going|waitlisted|maybe|declined)$"),
    session: Session = READ_SESSION,
) -> list[dict]:
    """The guests with their status, answer and attendance."""
    service.get_gathering(session=session, gathering_id=gathering_id)
    return service.guests(session=session, gathering_id=gathering_id, status=status)


@router.post(PREFIX + "/{gathering_id}/rsvp", response_model=InvitationRead, dependencies=WRITE)
def rsvp(gathering_id: int, body: RsvpBody, session: Session = SESSION):
    """Records a guest's answer from the shop's own form (the waitlist applies)."""
    return service.rsvp(
        session=session,
        gathering_id=gathering_id,
        customer_id=body.customer_id,
        answer=body.answer,
        now=utcnow(),
    )


@router.post(PREFIX + "/{gathering_id}/attendance", dependencies=WRITE)
def attendance(gathering_id: int, body: AttendanceBody, session: Session = SESSION) -> dict:
    """Records who attended, by id, email or external id."""
    by_email = service.customers_by_email(session, body.emails)
    by_id = service.customers_by_external_id(session, body.external_ids)
    ids = [*body.customer_ids, *by_email.values(), *by_id.values()]
    recorded = service.record_attendance(
        session=session, gathering_id=gathering_id, customer_ids=ids, source="manual", now=utcnow()
    )
    unmatched = sorted(
        {e.lower() for e in body.emails} - set(by_email) | set(body.external_ids) - set(by_id)
    )
    return {"recorded": recorded, "unmatched": unmatched}


@router.post(
    PREFIX + "/{gathering_id}/attendance.csv",
    dependencies=WRITE,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def attendance_csv(gathering_id: int, request: Request, session: Session = SESSION) -> dict:
    """Records attendance from a webinar tool's CSV export (`email` or `external_id` column)."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV must be UTF-8")
    return service.import_attendance(
        session=session, gathering_id=gathering_id, csv_text=text, source="csv", now=utcnow()
    )


@router.post(
    "/hooks/gatherings/attendance",
    summary="Attendance webhook (signed)",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": _OBJECT}}}},
)
async def attendance_hook(request: Request, session: Session = SESSION) -> dict:
    """A webinar tool's attendance, signed Standard Webhooks style (see the README)."""
    raw = await request.body()
    return inbound.receive(session=session, headers=request.headers, body=raw, now=utcnow())
