"""Dashboard pages of broadcasts: the list, the wizard (audience with a live count, template,
schedule, review) and the report with send, pause, resume and cancel buttons."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import InvalidInput, NotFound, PatronError
from patron.messages import audience, broadcast_report, broadcasts, report_chart, sender, service
from patron.segments.read import Segment
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)


def _choices(session: Session) -> dict:
    """Segments and templates the wizard offers."""
    from sqlalchemy import select

    segments = session.scalars(select(Segment).order_by(Segment.name)).all()
    return {"segments": segments, "templates": service.list_templates(session=session)}


@router.get("/broadcasts")
def broadcast_list(request: Request, _user=Depends(current_user), session=READ_SESSION):
    """Broadcasts, newest first."""
    rows = broadcasts.list_broadcasts(session, limit=100)
    return render(request, "messages/broadcasts.html", {"broadcasts": rows})


@router.get("/broadcasts/new")
def broadcast_wizard(request: Request, _user=Depends(current_user), session=READ_SESSION):
    """The four-step wizard."""
    return render(request, "messages/broadcast_wizard.html", {**_choices(session), "error": None})


def _ids(text: str) -> list[int]:
    """Ids from "1,2,3" (a query parameter of the live count)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("segment ids must be numbers")


@router.get("/broadcasts/audience-count")
def audience_count(
    include: str = Query("", max_length=2000),
    exclude: str = Query("", max_length=2000),
    channel: str = Query("email", pattern="^(email|webhook)$"),
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """The live count of the wizard: members, with consent, not suppressed, within the cap."""
    included = _ids(include)
    if not included:
        return JSONResponse({"members": 0, "consented": 0, "not_suppressed": 0, "within_cap": 0})
    counts = audience.live_count(
        session,
        segment_ids=included,
        exclude_ids=_ids(exclude),
        channel=channel,
        now=utcnow(),
        cap=sender.current_config().cap,
    )
    return JSONResponse(counts)


def _schedule(session: Session, broadcast_id: int, form) -> None:
    """Apply the wizard's schedule step."""
    when = form.get("when", "now")
    if when == "at":
        try:
            at = datetime.fromisoformat(str(form.get("send_at", "")))
        except ValueError:
            raise InvalidInput("give the date and time to send at (UTC)")
        if at.tzinfo is None:
            at = at.replace(tzinfo=utcnow().tzinfo)
        broadcasts.schedule(session, broadcast_id=broadcast_id, now=utcnow(), send_at=at)
    elif when == "local":
        try:
            day = date.fromisoformat(str(form.get("day", "")))
        except ValueError:
            raise InvalidInput("give the day of the local-time send")
        broadcasts.schedule(
            session,
            broadcast_id=broadcast_id,
            now=utcnow(),
            local_time=str(form.get("local_time", "")),
            day=day,
        )


@router.post("/broadcasts")
async def broadcast_create(request: Request, _user=Depends(current_user), session=SESSION):
    """Create the draft (and its schedule) from the wizard; send now if asked."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    try:
        with session.begin_nested():
            row = broadcasts.create(
                session,
                name=str(form.get("name", "")),
                template_id=int(form.get("template_id") or 0),
                segment_ids=[int(i) for i in form.getlist("segment_ids")],
                exclude_segment_ids=[int(i) for i in form.getlist("exclude_segment_ids")],
                now=utcnow(),
            )
            _schedule(session, row.id, form)
            if form.get("when", "now") == "now":
                broadcasts.start(
                    session,
                    broadcast_id=row.id,
                    now=utcnow(),
                    senders=sender.current_config().senders,
                )
    except (PatronError, ValueError) as exc:
        error = getattr(exc, "message", "check the form")
        context = {**_choices(session), "error": error}
        return render(request, "messages/broadcast_wizard.html", context, status_code=400)
    flash(request, f"Broadcast “{row.name}” is {row.state}.", "success")
    return RedirectResponse(f"/broadcasts/{row.id}", status_code=303)


@router.get("/broadcasts/{broadcast_id}")
def broadcast_page(
    request: Request, broadcast_id: int, _user=Depends(current_user), session=READ_SESSION
):
    """The report of one broadcast, with its actions."""
    try:
        row = broadcasts.get(session, broadcast_id=broadcast_id)
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/broadcasts", "back_label": "Broadcasts"},
            status_code=404,
        )
    report = broadcast_report.report(session, broadcast=row)
    chart = report_chart.geometry(report["timeline"])
    context = {"b": row, "report": report, "chart": chart, "label": report_chart.label}
    return render(request, "messages/broadcast_report.html", context)


ACTIONS = {
    "send": lambda s, b: broadcasts.start(
        s, broadcast_id=b, now=utcnow(), senders=sender.current_config().senders
    ),
    "pause": lambda s, b: broadcasts.pause(s, broadcast_id=b),
    "resume": lambda s, b: broadcasts.resume(
        s, broadcast_id=b, now=utcnow(), senders=sender.current_config().senders
    ),
    "cancel": lambda s, b: broadcasts.cancel(s, broadcast_id=b, now=utcnow()),
}


@router.post("/broadcasts/{broadcast_id}/{action}")
def broadcast_action(
    request: Request,
    broadcast_id: int,
    action: str,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Send, pause, resume or cancel, then back to the report."""
    check_csrf(request, csrf_token)
    back = f"/broadcasts/{broadcast_id}"
    if action not in ACTIONS:
        flash(request, f"unknown action {action!r}", "error")
        return RedirectResponse(back, status_code=303)
    try:
        with session.begin_nested():
            ACTIONS[action](session, broadcast_id)
    except PatronError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(back, status_code=303)
    flash(request, f"Broadcast {action}: done.", "success")
    return RedirectResponse(back, status_code=303)
