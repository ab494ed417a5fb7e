"""Dashboard pages of segments: the list and the rule builder with a live count and preview."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import InvalidInput, NotFound, PatronError
from patron.segments import catalogue, exports, rules, service, shortcuts
from patron.segments.api import csv_response
from patron.segments.audience import (
    CHANNELS,
    DEFAULT_AUDIENCE,
    DEFAULT_CHANNEL,
    VERBS,
    audience_of,
)
from patron.segments.catalogue import members_text
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
EMPTY = {"type": "and", "children": []}


@router.get("/segments")
def segment_list(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """List segments with member counts."""
    rows = service.list_segments(session=session)
    return render(
        request, "segments/list.html", {"segments": [(row, _summary(row.rules)) for row in rows]}
    )


def _summary(tree: dict) -> str:
    """A one-line reading of stored rules (or a note when they no longer validate)."""
    try:
        return rules.describe(rules.parse_tree(tree))
    except InvalidInput:
        return "(rules need fixing)"


def _builder(
    request: Request, session: Session, segment, form: dict, *, error=None, status_code: int = 200
):
    """Render the builder for a new (segment None) or saved segment."""
    others = [
        (s.id, s.name)
        for s in service.list_segments(session=session)
        if segment is None or s.id != segment.id
    ]
    data = {"catalogue": catalogue.catalogue(others), "rules": form["rules"]}
    context = {"segment": segment, "form": form, "data": data, "error": error}
    if segment is not None:
        context["export"] = _export_choices(session, segment.id)
    return render(request, "segments/builder.html", context, status_code=status_code)


def _export_choices(session: Session, segment_id: int) -> dict:
    """Counts and options of the export form: who may be contacted on each channel."""
    counts = exports.audience_counts(session=session, segment_id=segment_id)
    channels = [(channel, counts["contactable"][channel], VERBS[channel]) for channel in CHANNELS]
    return {"members": counts["members"], "channels": channels}


@router.get("/segments/new")
def segment_new(
    request: Request,
    rules_json: str = Query("", alias="rules", max_length=20000),
    name: str = "",
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """The builder for a new segment, prefilled when other pages pass rules (JSON) and a name."""
    form = {"name": name[:255], "description": "", "rules": EMPTY}
    if rules_json:
        try:
            form["rules"] = _parse_rules(rules_json)
        except InvalidInput as exc:
            return _builder(request, session, None, form, error=exc, status_code=exc.status)
    return _builder(request, session, None, form)


@router.post("/segments/preview")
def segment_preview(
    request: Request,
    body: dict = Body(...),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Live count and first matches for the builder (JSON; CSRF token in X-CSRF-Token)."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    try:
        return service.preview(
            session=session, rules_json=body.get("rules"), now=utcnow(), limit=10
        )
    except InvalidInput as exc:
        return JSONResponse(exc.to_dict(), status_code=exc.status)


@router.get("/segments/open")
def segment_find(
    request: Request,
    rules_json: str = Query("", alias="rules", max_length=20000),
    name: str = Query("", max_length=255),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """The saved segment of a rule other pages link to, or the builder prefilled with it."""
    form = {"name": name, "description": "", "rules": EMPTY}
    try:
        form["rules"] = _parse_rules(rules_json)
        found = shortcuts.find_by_rules(session=session, rules_json=form["rules"])
    except PatronError as exc:
        return _builder(request, session, None, form, error=exc, status_code=exc.status)
    if found is not None:
        return RedirectResponse(f"/segments/{found.id}", status_code=303)
    query = urlencode({"rules": json.dumps(form["rules"]), "name": name})
    return RedirectResponse(f"/segments/new?{query}", status_code=303)


@router.post("/segments/open")
def segment_open(
    request: Request,
    csrf_token: str = Form(""),
    name: str = Form(""),
    description: str = Form(""),
    rules_json: str = Form("", alias="rules"),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Open the saved segment of a rule another page offers (an RFM cell ...), or create it."""
    check_csrf(request, csrf_token)
    form = {"name": name, "description": description, "rules": EMPTY}
    try:
        form["rules"] = _parse_rules(rules_json)
        with session.begin_nested():
            segment, created = shortcuts.open_or_create(
                session=session,
                name=name,
                description=description,
                rules_json=form["rules"],
                now=utcnow(),
            )
    except PatronError as exc:
        return _builder(request, session, None, form, error=exc, status_code=exc.status)
    verb = "created" if created else "opened"
    message = f"Segment {segment.name} {verb}: {members_text(segment.member_count)}."
    flash(request, message, "success")
    return RedirectResponse(f"/segments/{segment.id}", status_code=303)


@router.get("/segments/{segment_id}")
def segment_edit(
    request: Request, segment_id: int, _user=Depends(current_user), session: Session = READ_SESSION
):
    """The builder for a saved segment."""
    try:
        segment = service.get_segment(session=session, segment_id=segment_id)
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/segments", "back_label": "Segments"},
            status_code=404,
        )
    form = {"name": segment.name, "description": segment.description, "rules": segment.rules}
    return _builder(request, session, segment, form)


def _parse_rules(text: str) -> dict:
    """The rules JSON the builder script posted."""
    try:
        value = json.loads(text or "")
    except ValueError:
        raise InvalidInput("rules: the rule builder sent no valid rules; reload the page")
    return value if isinstance(value, dict) else {}


@router.post("/segments")
def segment_create(
    request: Request,
    csrf_token: str = Form(""),
    name: str = Form(""),
    description: str = Form(""),
    rules_json: str = Form("", alias="rules"),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Save a new segment from the builder."""
    check_csrf(request, csrf_token)
    form = {"name": name, "description": description, "rules": EMPTY}
    try:
        form["rules"] = _parse_rules(rules_json)
        with session.begin_nested():
            segment = service.create_segment(
                session=session,
                name=name,
                description=description,
                rules_json=form["rules"],
                now=utcnow(),
            )
    except PatronError as exc:
        return _builder(request, session, None, form, error=exc, status_code=exc.status)
    message = f"Segment {segment.name} saved: {members_text(segment.member_count)}."
    flash(request, message, "success")
    return RedirectResponse(f"/segments/{segment.id}", status_code=303)


@router.post("/segments/{segment_id}")
def segment_update(
    request: Request,
    segment_id: int,
    csrf_token: str = Form(""),
    name: str = Form(""),
    description: str = Form(""),
    rules_json: str = Form("", alias="rules"),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Save changes to a segment from the builder."""
    check_csrf(request, csrf_token)
    segment = service.get_segment(session=session, segment_id=segment_id)
    form = {"name": name, "description": description, "rules": segment.rules}
    try:
        form["rules"] = _parse_rules(rules_json)
        with session.begin_nested():
            service.update_segment(
                session=session,
                segment_id=segment_id,
                now=utcnow(),
                name=name,
                description=description,
                rules_json=form["rules"],
            )
    except PatronError as exc:
        session.expire_all()
        segment = service.get_segment(session=session, segment_id=segment_id)
        return _builder(request, session, segment, form, error=exc, status_code=exc.status)
    flash(request, f"Segment saved: {members_text(segment.member_count)}.", "success")
    return RedirectResponse(f"/segments/{segment_id}", status_code=303)


@router.post("/segments/{segment_id}/delete")
def segment_delete(
    request: Request,
    segment_id: int,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Delete a segment."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            service.delete_segment(session=session, segment_id=segment_id)
    except PatronError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(f"/segments/{segment_id}", status_code=303)
    flash(request, "Segment deleted.", "success")
    return RedirectResponse("/segments", status_code=303)


@router.get("/segments/{segment_id}/export.csv")
def segment_export(
    request: Request,
    segment_id: int,
    channel: str = DEFAULT_CHANNEL,
    audience: str = DEFAULT_AUDIENCE,
    _user=Depends(current_user),
):
    """Download the members of the chosen audience as CSV (default: who may be emailed)."""
    return csv_response(request, segment_id, audience_of(channel, audience))


def segments_panel(*, session: Session, customer_id: int) -> dict:
    """Context of the segments panel on a customer's page."""
    return {"memberships": shortcuts.customer_segments(session=session, customer_id=customer_id)}
