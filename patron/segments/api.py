"""REST API of segments under /api/segments: CRUD, live count, preview, members, export."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from patron.db import read_transaction, transaction, utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.errors import InvalidInput
from patron.segments import catalogue, exports, service
from patron.segments.audience import (
    AUDIENCES,
    CHANNELS,
    DEFAULT_AUDIENCE,
    DEFAULT_CHANNEL,
    Audience,
    audience_of,
)
from patron.segments.schemas import (
    ChangePage,
    CountRead,
    MemberPage,
    PreviewRead,
    RefreshRead,
    RulesIn,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
)
from patron.web import pagination

router = APIRouter(prefix="/api/segments", tags=["segments"])
EXPORT_DESCRIPTION = (
    "CSV: customer_id, external_id, email, phone, first_name, last_name, entered_at, "
    "email_consent, sms_consent, push_consent, contactable_on_<channel>. The filename "
    "(segment-<id>-<channel>-<audience>.csv) and the X-Patron-Audience header say which "
    "audience it holds; X-Patron-Rows counts its rows, X-Patron-Members the segment's."
)


@router.get("", response_model=list[SegmentRead], summary="List segments", dependencies=READ)
def list_segments(session: Session = READ_SESSION):
    """Returns every segment with its member count."""
    return service.list_segments(session=session)


@router.post(
    "",
    status_code=201,
    response_model=SegmentRead,
    dependencies=WRITE,
    summary="Create a segment (422 with the rule path when rules are invalid)",
)
def create_segment(body: SegmentCreate, session: Session = SESSION):
    """Saves a segment and materialises its members."""
    return service.create_segment(
        session=session,
        name=body.name,
        description=body.description,
        rules_json=body.rules,
        now=utcnow(),
    )


@router.get("/catalogue", summary="Condition types, fields and operators", dependencies=READ)
def get_catalogue() -> dict:
    """Describes every condition a rule tree may use."""
    return catalogue.catalogue()


@router.post(
    "/count",
    response_model=CountRead,
    dependencies=READ,
    summary="Count the customers matching rules, without saving",
)
def count(body: RulesIn, session: Session = SESSION):
    """Counts live."""
    return {"count": service.count(session=session, rules_json=body.rules, now=utcnow())}


@router.post(
    "/preview",
    response_model=PreviewRead,
    dependencies=READ,
    summary="Count and show the first matching customers with why they match",
)
def preview(body: RulesIn, session: Session = SESSION):
    """Counts live and explains the first matches."""
    return service.preview(session=session, rules_json=body.rules, now=utcnow(), limit=body.limit)


@router.get("/{segment_id}", response_model=SegmentRead, summary="Get a segment", dependencies=READ)
def get_segment(segment_id: int, session: Session = READ_SESSION):
    """Returns one segment."""
    return service.get_segment(session=session, segment_id=segment_id)


@router.patch(
    "/{segment_id}",
    response_model=SegmentRead,
    dependencies=WRITE,
    summary="Update a segment's name, description or rules",
)
def update_segment(segment_id: int, body: SegmentUpdate, session: Session = SESSION):
    """Updates the fields sent; new rules re-materialise the members."""
    return service.update_segment(
        session=session,
        segment_id=segment_id,
        now=utcnow(),
        name=body.name,
        description=body.description,
        rules_json=body.rules,
    )


@router.delete(
    "/{segment_id}",
    status_code=204,
    response_model=None,
    dependencies=WRITE,
    summary="Delete a segment (409 when built in or used by another segment)",
)
def delete_segment(segment_id: int, session: Session = SESSION) -> None:
    """Deletes a segment with its memberships."""
    service.delete_segment(session=session, segment_id=segment_id)


@router.get(
    "/{segment_id}/members",
    response_model=MemberPage,
    dependencies=READ,
    summary="Stored members in customer id order (keyset pages)",
)
def members(
    segment_id: int,
    limit: int = pagination.LIMIT,
    cursor: str | None = pagination.CURSOR,
    session: Session = READ_SESSION,
):
    """Returns a page of members."""
    position = pagination.decode(cursor)
    after = position.id if position else 0
    items = service.members(session=session, segment_id=segment_id, limit=limit + 1, after=after)
    return pagination.page(items, limit, key=lambda m: (m["id"], m["id"]))


@router.get(
    "/{segment_id}/changes",
    response_model=ChangePage,
    dependencies=READ,
    summary="Entries and exits in the order they happened (cursor pagination)",
)
def changes(
    segment_id: int,
    since: datetime | None = None,
    limit: int = Query(1000, ge=1, le=10000, description="Items per page (1-10000)."),
    cursor: str | None = Query(
        None, max_length=64, description="`next_cursor` of the previous page."
    ),
    session: Session = READ_SESSION,
):
    """Returns a page of entries and exits (optionally since a time), oldest first."""
    items = service.changes(
        session=session,
        segment_id=segment_id,
        since=since,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page = items[:limit]
    return {
        "items": page,
        "next_cursor": encode_cursor(page[-1]["id"]) if len(items) > limit else None,
    }


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the page after the item with last_id (as the customer lists)."""
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for, or InvalidInput when it was not made by encode_cursor."""
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput("cursor is not valid: pass the next_cursor of a previous page")


@router.post(
    "/{segment_id}/refresh",
    response_model=RefreshRead,
    dependencies=WRITE,
    summary="Recompute a segment's members now",
)
def refresh(segment_id: int, session: Session = SESSION):
    """Recomputes the stored members."""
    return service.refresh_segment(session=session, segment_id=segment_id, now=utcnow())


CHANNEL = Query(
    DEFAULT_CHANNEL,
    description="The channel whose consent decides who may be contacted.",
    json_schema_extra={"enum": list(CHANNELS)},
)
AUDIENCE = Query(
    DEFAULT_AUDIENCE,
    description="`contactable` (default): only members whose consent on the channel is "
    "granted; `all`: every member; `not_contactable`: denied, unsubscribed or unknown.",
    json_schema_extra={"enum": list(AUDIENCES)},
)


@router.get(
    "/{segment_id}/export",
    dependencies=READ,
    response_class=StreamingResponse,
    summary="Members as CSV with their consent (by default only those who may be emailed)",
    responses={200: {"content": {"text/csv": {}}, "description": EXPORT_DESCRIPTION}},
)
def export(
    segment_id: int,
    request: Request,
    channel: str = CHANNEL,
    audience: str = AUDIENCE,
):
    """Streams the members of the chosen audience as CSV, read in its own transaction."""
    return csv_response(request, segment_id, audience_of(channel, audience))


def csv_response(request: Request, segment_id: int, audience: Audience) -> StreamingResponse:
    """A streamed CSV download of an audience of a segment (404 before streaming when unknown).

    The filename, the X-Patron-Audience and X-Patron-Channel headers and the last column
    (`contactable_on_<channel>`) say which audience the file holds.
    """
    sessions = request.app.state.read_sessions
    with read_transaction(sessions) as session:
        counts = exports.audience_counts(session=session, segment_id=segment_id)

    def rows():
        with read_transaction(sessions) as session:
            yield from exports.export_csv(session=session, segment_id=segment_id, audience=audience)

    return StreamingResponse(
        rows(),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{audience.filename(segment_id)}"',
            "X-Patron-Audience": audience.audience,
            "X-Patron-Channel": audience.channel,
            "X-Patron-Members": str(counts["members"]),
            "X-Patron-Rows": str(audience.rows_in(counts)),
        },
    )


def install(app: FastAPI) -> None:
    """Create the built-in segments when the server starts (idempotent)."""

    def ensure_builtins() -> None:
        with transaction(app.state.sessions) as session:
            service.ensure_builtin_segments(session=session, now=utcnow())

    app.router.on_startup.append(ensure_builtins)
