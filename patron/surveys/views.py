"""Dashboard pages of surveys: the list and builder, and a survey's results with filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import NotFound, PatronError
from patron.segments import service as segments
from patron.surveys import chart, playbooks, results, rules, service
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
REASON = "What is the main reason for your score?"
FIELDS = (
    "name",
    "kind",
    "prompt",
    "reason",
    "choice_type",
    "choice_prompt",
    "choices",
    "questions",
)
BLANK = dict.fromkeys(FIELDS, "") | {"kind": "nps", "reason": REASON, "choice_type": "single"}


def questions_from_form(values: dict) -> list:
    """The builder's questions: a scored one, a reason, a choice question (or the JSON given)."""
    if values["questions"].strip():
        return json.loads(values["questions"])
    found: list[dict] = [{"type": values["kind"]}]
    if values["prompt"].strip():
        found[0]["prompt"] = values["prompt"]
    if values["reason"].strip():
        found.append({"id": "reason", "type": "text", "prompt": values["reason"]})
    choices = [c.strip() for c in values["choices"].split(",") if c.strip()]
    if values["choice_prompt"].strip() or choices:
        kind = "multiple" if values["choice_type"] == "multiple" else "single"
        found.append(
            {"id": "choice", "type": kind, "prompt": values["choice_prompt"], "choices": choices}
        )
    return found


def _list(request: Request, session: Session, form: dict, error=None, status_code=200):
    surveys = service.list_surveys(session=session)
    rows = [(s, results.summary(session, survey_id=s.id)) for s in surveys]
    return render(
        request,
        "surveys/list.html",
        {
            "rows": rows,
            "form": form,
            "error": error,
            "types": rules.TYPES,
            "playbooks": playbooks.listing(session=session),
        },
        status_code=status_code,
    )


@router.get("/surveys")
def survey_list(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Surveys with their NPS, and the builder."""
    return _list(request, session, dict(BLANK))


@router.post("/surveys")
async def survey_create(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Create a survey from the builder."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    values = {k: str(form.get(k, "")) for k in FIELDS}
    try:
        questions = questions_from_form(values)
    except ValueError:
        return _list(request, session, values, {"message": "questions: not valid JSON"}, 422)
    try:
        with session.begin_nested():
            survey = service.create_survey(
                session=session, name=values["name"], questions=questions, now=utcnow()
            )
    except PatronError as exc:
        return _list(request, session, values, exc, exc.status)
    flash(request, f"Survey {survey.name} created.")
    return RedirectResponse(f"/surveys/{survey.id}", status_code=303)


@router.post("/surveys/playbooks/{name}")
async def install_playbook(
    request: Request, name: str, _user=Depends(current_user), session: Session = SESSION
):
    """Install a survey playbook as a draft journey."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    try:
        journey, _new = playbooks.install(session=session, name=name, now=utcnow())
    except PatronError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse("/surveys", status_code=303)
    return RedirectResponse(f"/journeys/{journey.id}", status_code=303)


@router.post("/surveys/{survey_id}/send")
async def survey_send(
    request: Request, survey_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """Email the survey to a segment's members (the recontact limit applies)."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    segment = str(form.get("segment_id", ""))
    try:
        if not segment.isdigit():
            raise NotFound("pick a segment to ask")
        with session.begin_nested():
            out = service.ask_segment(
                session=session, survey_id=survey_id, segment_id=int(segment), now=utcnow()
            )
        flash(request, f"Asked {out['asked']}; skipped {out['skipped']} asked a survey lately.")
    except PatronError as exc:
        flash(request, exc.message, "error")
    return RedirectResponse(f"/surveys/{survey_id}", status_code=303)


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None


def _filters(request: Request) -> dict:
    q = request.query_params
    category = q.get("category") if q.get("category") in rules.CATEGORIES else None
    segment = q.get("segment_id", "")
    return {
        "category": category,
        "since": _day(q.get("since")),
        "until": _day(q.get("until")),
        "q": (q.get("q") or "").strip()[:100] or None,
        "segment_id": int(segment) if segment.isdigit() else None,
    }


@router.get("/surveys/{survey_id}")
def survey_results(
    request: Request, survey_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """A survey's NPS over time, by segment and stage, and its verbatim answers."""
    try:
        survey = service.get_survey(session=session, survey_id=survey_id)
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/surveys", "back_label": "Surveys"},
            status_code=404,
        )
    f = _filters(request)
    months = results.over_time(session, survey_id=survey.id, **f)
    return render(
        request,
        "surveys/results.html",
        {
            "survey": survey,
            "filters": f,
            "raw": request.query_params,
            "summary": results.summary(session, survey_id=survey.id, **f),
            "chart": chart.geometry(months),
            "months": months,
            "segments": results.by_segment(session, survey_id=survey.id, **f),
            "stages": results.by_stage(session, survey_id=survey.id, **f),
            "tiers": results.by_tier(session, survey_id=survey.id, **f),
            "verbatims": results.verbatims(session, survey_id=survey.id, **f),
            "all_segments": segments.list_segments(session=session),
        },
    )
