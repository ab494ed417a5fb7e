"""Dashboard pages of journeys: the list with states, the visual builder with a dry run, the
report."""

from __future__ import annotations

import json

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import InvalidInput, NotFound, PatronError
from patron.journeys import builder, report, service
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
ACTIONS = {"pause": service.pause, "resume": service.resume, "archive": service.archive}


@router.get("/journeys")
def journey_list(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """Journeys with their state, version and enrolment counts."""
    return render(request, "journeys/list.html", {"rows": builder.list_rows(session)})


@router.post("/journeys/{journey_id}/state")
def journey_action(
    request: Request,
    journey_id: int,
    action: str = Form(""),
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Pause, resume or archive a journey from the list."""
    check_csrf(request, csrf_token)
    if action not in ACTIONS:
        return _not_found(request, f"no action {action!r}")
    try:
        with session.begin_nested():
            journey = ACTIONS[action](session=session, journey_id=journey_id, now=utcnow())
    except PatronError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Journey {journey.name} is {journey.state}.", "success")
    return RedirectResponse("/journeys", status_code=303)


def _not_found(request: Request, message: str):
    """The 404 page, back to the list."""
    return render(
        request,
        "web/not_found.html",
        {"message": message, "back_href": "/journeys", "back_label": "Journeys"},
        status_code=404,
    )


def _builder(request, session, journey, form, *, error=None, status_code: int = 200):
    """Render the builder for a new (journey None) or saved journey."""
    data = builder.page_data(session, journey, form["definition"], error)
    context = {"journey": journey, "form": form, "data": data, "error": error}
    return render(request, "journeys/builder.html", context, status_code=status_code)


def _parse(text: str) -> dict:
    """The definition JSON the builder script posted."""
    try:
        value = json.loads(text or "")
    except ValueError:
        raise InvalidInput("definition: the builder sent no valid definition; reload the page")
    if not isinstance(value, dict):
        raise InvalidInput("definition: the builder sent no valid definition; reload the page")
    return value


@router.get("/journeys/new")
def journey_new(request: Request, _user=Depends(current_user), session: Session = READ_SESSION):
    """The builder for a new journey."""
    form = {"name": "", "description": "", "definition": builder.EMPTY}
    return _builder(request, session, None, form)


@router.post("/journeys")
def journey_create(
    request: Request,
    csrf_token: str = Form(""),
    name: str = Form(""),
    description: str = Form(""),
    definition: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Save a new journey (a draft) from the builder."""
    check_csrf(request, csrf_token)
    form = {"name": name, "description": description, "definition": builder.EMPTY}
    try:
        form["definition"] = _parse(definition)
        with session.begin_nested():
            journey = service.create_journey(
                session=session,
                name=name,
                description=description,
                definition=form["definition"],
                now=utcnow(),
            )
    except PatronError as exc:
        return _builder(request, session, None, form, error=exc, status_code=exc.status)
    flash(request, f"Journey {journey.name} saved as a draft.", "success")
    return RedirectResponse(f"/journeys/{journey.id}/edit", status_code=303)


@router.get("/journeys/{journey_id}")
def journey_open(journey_id: int, _user=Depends(current_user)):
    """A journey's page is its builder."""
    return RedirectResponse(f"/journeys/{journey_id}/edit", status_code=303)


@router.get("/journeys/{journey_id}/edit")
def journey_edit(
    request: Request, journey_id: int, _user=Depends(current_user), session: Session = READ_SESSION
):
    """The builder for a saved journey, with live counts per step."""
    try:
        journey = service.get_journey(session=session, journey_id=journey_id)
    except NotFound as exc:
        return _not_found(request, exc.message)
    version = service.current_version(session=session, journey_id=journey_id)
    form = {
        "name": journey.name,
        "description": journey.description,
        "definition": version.definition,
    }
    return _builder(request, session, journey, form)


@router.get("/journeys/{journey_id}/report")
def journey_report(
    request: Request, journey_id: int, _user=Depends(current_user), session: Session = READ_SESSION
):
    """A journey's funnel: all versions, then each version, with a bar per step."""
    try:
        found = report.report(session=session, journey_id=journey_id)
    except NotFound as exc:
        return _not_found(request, exc.message)
    return render(request, "journeys/report.html", {"report": found})


@router.post("/journeys/{journey_id}/edit")
def journey_update(
    request: Request,
    journey_id: int,
    csrf_token: str = Form(""),
    definition: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Save the edited definition as a new version (enrolled customers stay on theirs)."""
    check_csrf(request, csrf_token)
    try:
        journey = service.get_journey(session=session, journey_id=journey_id)
    except NotFound as exc:
        return _not_found(request, exc.message)
    form = {"name": journey.name, "description": journey.description, "definition": {}}
    try:
        form["definition"] = _parse(definition)
        with session.begin_nested():
            version = service.new_version(
                session=session,
                journey_id=journey_id,
                definition=form["definition"],
                now=utcnow(),
            )
    except PatronError as exc:
        session.expire_all()
        journey = service.get_journey(session=session, journey_id=journey_id)
        return _builder(request, session, journey, form, error=exc, status_code=exc.status)
    flash(request, f"Saved as version {version.number}.", "success")
    return RedirectResponse(f"/journeys/{journey_id}/edit", status_code=303)


@router.post("/journeys/dry-run")
def journey_dry_run(
    request: Request,
    body: dict = Body(...),
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """The dry run of the builder's definition (JSON; CSRF token in X-CSRF-Token)."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    try:
        days = body.get("days", 30)
        if not isinstance(days, int) or isinstance(days, bool):
            raise InvalidInput("days: a whole number is required")
        journey_id = body.get("journey_id")
        result = service.dry_run(
            session=session,
            now=utcnow(),
            days=days,
            journey_id=journey_id if isinstance(journey_id, int) else None,
            definition=body.get("definition"),
        )
    except PatronError as exc:
        return JSONResponse(exc.to_dict(), status_code=exc.status)
    return JSONResponse(json.loads(json.dumps(result, default=str)))
