"""Dashboard pages of gatherings: the events, a new event, and one event's invitation form,
RSVP counts, guests, attendance upload and each guest's check-in QR code."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import InvalidInput, NotFound, PatronError
from patron.gatherings import links, rules, service
from patron.segments import service as segments
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
MAX_CSV = 5 * 1024 * 1024
EMPTY_FORM = {"title": "", "starts_at": "", "ends_at": "", "timezone": "UTC"} | {
    "online_url": "",
    "place": "",
    "capacity": "",
    "description": "",
}


def _list(request: Request, session: Session, form: dict, error: str | None = None, status=200):
    """The events with the form for a new one."""
    rows = [
        (g, service.counts(session=session, gathering_id=g.id))
        for g in service.list_gatherings(session=session)
    ]
    return render(
        request,
        "gatherings/list.html",
        {"rows": rows, "form": form, "error": error},
        status_code=status,
    )


@router.get("/gatherings")
def gathering_list(request: Request, _user=Depends(current_user), session=READ_SESSION):
    """Every event with its RSVPs and attendance."""
    return _list(request, session, dict(EMPTY_FORM))


def _when(value: str, name: str) -> datetime:
    """A datetime-local field, or InvalidInput naming it."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: give a date and time")


@router.post("/gatherings")
async def gathering_create(
    request: Request, _user=Depends(current_user), session: Session = SESSION
):
    """Create an event from the form; its page follows."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    form = {k: str(submitted.get(k, "")) for k in EMPTY_FORM}
    try:
        capacity = form["capacity"].strip()
        if capacity and not capacity.isdigit():
            raise InvalidInput("capacity: a whole number")
        data = rules.GatheringInput(
            title=form["title"],
            starts_at=_when(form["starts_at"], "starts_at"),
            ends_at=_when(form["ends_at"], "ends_at"),
            timezone=form["timezone"].strip() or "UTC",
            online_url=form["online_url"].strip() or None,
            place=form["place"].strip() or None,
            capacity=int(capacity) if capacity else None,
            description=form["description"],
        )
        with session.begin_nested():
            gathering = service.create_gathering(session=session, data=data, now=utcnow())
    except PatronError as exc:
        return _list(request, session, form, exc.message, exc.status)
    flash(request, f"Event {gathering.title!r} created.", "success")
    return RedirectResponse(f"/gatherings/{gathering.id}", status_code=303)


@router.get("/gatherings/{gathering_id}")
def gathering_page(
    request: Request, gathering_id: int, _user=Depends(current_user), session=READ_SESSION
):
    """One event: invite a segment, RSVPs, guests with check-in QR codes, attendance upload."""
    try:
        gathering = service.get_gathering(session=session, gathering_id=gathering_id)
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/gatherings", "back_label": "Events"},
            status_code=404,
        )
    secret, base = request.app.state.settings.secret_key, links.public_base()
    guests = service.guests(session=session, gathering_id=gathering_id)
    for guest in guests:
        guest["links"] = links.guest_links(secret, base, gathering, guest["customer_id"])
        guest["qr_url"] = guest["links"]["checkin_qr_url"].removesuffix(".png") + ".svg"
    return render(
        request,
        "gatherings/detail.html",
        {
            "g": gathering,
            "counts": service.counts(session=session, gathering_id=gathering_id),
            "guests": guests,
            "segments": segments.list_segments(session=session),
        },
    )


@router.post("/gatherings/{gathering_id}/invite")
def gathering_invite(
    request: Request,
    gathering_id: int,
    segment_id: int = Form(...),
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Invite a segment's members (each once)."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            n = service.invite_segment(
                session=session, gathering_id=gathering_id, segment_id=segment_id, now=utcnow()
            )
    except PatronError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"{n} customers invited; their invitations are queued.", "success")
    return RedirectResponse(f"/gatherings/{gathering_id}", status_code=303)


@router.post("/gatherings/{gathering_id}/attendance")
async def gathering_attendance(
    request: Request, gathering_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """Record attendance from an uploaded CSV (a webinar tool's export)."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    upload = submitted.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("choose a CSV file")
        raw = await upload.read(MAX_CSV + 1)
        if len(raw) > MAX_CSV:
            raise InvalidInput("the CSV is larger than 5 MB")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the CSV must be UTF-8")
        with session.begin_nested():
            result = service.import_attendance(
                session=session,
                gathering_id=gathering_id,
                csv_text=text,
                source="csv",
                now=utcnow(),
            )
    except PatronError as exc:
        flash(request, exc.message, "error")
    else:
        unmatched = ", ".join(result["unmatched"][:10])
        missing = f"; not found: {unmatched}" if unmatched else ""
        flash(request, f"{result['recorded']} attendees recorded{missing}.", "success")
    return RedirectResponse(f"/gatherings/{gathering_id}", status_code=303)


def panel_context(*, session: Session, customer_id: int) -> dict | None:
    """The customer page's Events panel: invitations, answers and attendance."""
    rows = service.invitations_of(session=session, customer_id=customer_id)
    return {"gathering_invitations": rows} if rows else None
