"""REST API of broadcasts: create, count, schedule, send, pause, resume, cancel, report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.messages import broadcast_report, broadcasts, sender
from patron.web import pagination

router = APIRouter(prefix="/api/broadcasts", tags=["broadcasts"])


SegmentId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class BroadcastBody(BaseModel):
    """A draft broadcast: a template to segments, minus exclusions."""

    name: str = Field(..., min_length=1, max_length=255)
    template_id: int = Field(..., ge=1, le=2**63 - 1)
    segment_ids: list[SegmentId] = Field(..., min_length=1, max_length=100)
    exclude_segment_ids: list[SegmentId] = Field(default_factory=list, max_length=100)


class ScheduleBody(BaseModel):
    """Send at a UTC time, or at a local wall-clock time on a day in each customer's zone."""

    send_at: datetime | None = None
    local_time: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")
    day: date | None = None


class BroadcastRead(BaseModel):
    """A broadcast as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    template_id: int
    segment_ids: list[int]
    exclude_segment_ids: list[int]
    state: str
    send_at: datetime | None
    local_time: str | None
    audience_size: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


BroadcastPage = pagination.Page[BroadcastRead]


def _read(row) -> BroadcastRead:
    """The API view of a broadcast row."""
    return BroadcastRead.model_validate(row)


@router.post("", status_code=201, response_model=BroadcastRead, dependencies=WRITE)
def create_broadcast(body: BroadcastBody, session: Session = SESSION):
    """Create a draft broadcast."""
    return _read(broadcasts.create(session, **body.model_dump(), now=utcnow()))


@router.get("", response_model=BroadcastPage, dependencies=READ)
def list_broadcasts(
    limit: int = pagination.LIMIT,
    cursor: str | None = pagination.CURSOR,
    session: Session = READ_SESSION,
):
    """Broadcasts, newest first, one page at a time."""
    after = pagination.decode(cursor)
    rows = broadcasts.list_broadcasts(
        session, before_id=after.id if after else None, limit=limit + 1
    )
    page = pagination.page(rows, limit, key=lambda b: (b.id, b.id))
    return BroadcastPage(items=[_read(b) for b in page["items"]], next_cursor=page["next_cursor"])


@router.get("/{broadcast_id}", response_model=BroadcastRead, dependencies=READ)
def get_broadcast(broadcast_id: int, session: Session = READ_SESSION):
    """One broadcast."""
    return _read(broadcasts.get(session, broadcast_id=broadcast_id))


@router.get("/{broadcast_id}/count", dependencies=READ)
def count_broadcast(broadcast_id: int, session: Session = READ_SESSION) -> dict[str, int]:
    """The live audience: members, with consent, not suppressed, within the cap now."""
    row = broadcasts.get(session, broadcast_id=broadcast_id)
    return broadcasts.count(session, broadcast=row, now=utcnow(), config=sender.current_config())


@router.post("/{broadcast_id}/schedule", response_model=BroadcastRead, dependencies=WRITE)
def schedule_broadcast(broadcast_id: int, body: ScheduleBody, session: Session = SESSION):
    """Schedule a draft: at a time, or at a local time in each customer's zone."""
    row = broadcasts.schedule(session, broadcast_id=broadcast_id, now=utcnow(), **body.model_dump())
    return _read(row)


@router.post("/{broadcast_id}/send", response_model=BroadcastRead, dependencies=WRITE)
def send_broadcast(broadcast_id: int, session: Session = SESSION):
    """Start sending now (a second press changes nothing)."""
    senders = sender.current_config().senders
    broadcasts.start(session, broadcast_id=broadcast_id, now=utcnow(), senders=senders)
    return _read(broadcasts.get(session, broadcast_id=broadcast_id))


@router.post("/{broadcast_id}/pause", response_model=BroadcastRead, dependencies=WRITE)
def pause_broadcast(broadcast_id: int, session: Session = SESSION):
    """Stop claiming its messages (those being sent finish)."""
    return _read(broadcasts.pause(session, broadcast_id=broadcast_id))


@router.post("/{broadcast_id}/resume", response_model=BroadcastRead, dependencies=WRITE)
def resume_broadcast(broadcast_id: int, session: Session = SESSION):
    """Send its messages again."""
    senders = sender.current_config().senders
    row = broadcasts.resume(session, broadcast_id=broadcast_id, now=utcnow(), senders=senders)
    return _read(row)


@router.post("/{broadcast_id}/cancel", response_model=BroadcastRead, dependencies=WRITE)
def cancel_broadcast(broadcast_id: int, session: Session = SESSION):
    """Stop for good: queued messages are skipped with reason cancelled."""
    return _read(broadcasts.cancel(session, broadcast_id=broadcast_id, now=utcnow()))


@router.get("/{broadcast_id}/report", dependencies=READ)
def report_broadcast(broadcast_id: int, session: Session = READ_SESSION) -> dict[str, Any]:
    """Audience, sent, delivered, skipped by reason, engagement, revenue, links, timeline."""
    row = broadcasts.get(session, broadcast_id=broadcast_id)
    return broadcast_report.report(session, broadcast=row)
