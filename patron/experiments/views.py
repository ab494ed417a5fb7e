"""Dashboard pages of experiments: the list with the global holdout, and one experiment."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import NotFound, PatronError
from patron.experiments import chart, forms, service
from patron.messages import service as messages
from patron.segments import service as segments
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)


@router.get("/experiments")
def experiment_list(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Experiments, newest first, and what the whole programme adds."""
    now = utcnow()
    return render(
        request,
        "experiments/list.html",
        {
            "experiments": service.list_experiments(session),
            "programme": service.global_report(session, now=now),
        },
    )


def _chart_rows(result: dict) -> list[dict]:
    """Each arm's lift on the primary metric against the control."""
    primary = "clicked" if result["experiment"]["metric"] == "clicks" else "revenue"
    return [
        {
            "key": c["key"],
            "rel": c[primary]["rel"],
            "low": c[primary]["rel_low"],
            "high": c[primary]["rel_high"],
        }
        for c in result["comparisons"]
    ]


def _form_page(request, session, form, *, error=None, needed=None, status_code=200):
    """The new-experiment form, re-filled as typed."""
    context = {
        "form": form,
        "error": error,
        "needed": needed,
        "segments": segments.list_segments(session=session),
        "templates": messages.list_templates(session=session),
    }
    return render(request, "experiments/new.html", context, status_code=status_code)


@router.get("/experiments/new")
def experiment_new(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """The form of a new experiment."""
    return _form_page(request, session, forms.blank())


@router.post("/experiments")
async def experiment_create(
    request: Request, _user=Depends(current_user), session: Session = SESSION
):
    """Create a draft from the form; or add an arm row, or compute the required sample."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    form = forms.typed(submitted)
    action = submitted.get("action")
    try:
        if action == "add_arm":
            form["arms"].append(forms.arm_row())
            return _form_page(request, session, form)
        if action == "calculate":
            return _form_page(request, session, form, needed=forms.required_sample(form))
        body = forms.model(form)
        data = body.model_dump()
        data["arms"] = [a.model_dump() for a in body.arms]
        with session.begin_nested():
            row = service.create(session, now=utcnow(), **data)
    except PatronError as exc:
        return _form_page(request, session, form, error=exc.message, status_code=400)
    flash(request, f"Experiment {row.name} created as a draft.", "success")
    return RedirectResponse(f"/experiments/{row.id}", status_code=303)


ACTIONS = {"start": service.start, "stop": service.stop, "decide": service.decide}
DONE = {"start": "started", "stop": "stopped", "decide": "decided"}


@router.post("/experiments/{experiment_id}/{action}")
async def experiment_action(
    request: Request,
    experiment_id: int,
    action: str,
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Start, stop or (at the horizon) decide an experiment, then back to its page."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    back = RedirectResponse(f"/experiments/{experiment_id}", status_code=303)
    if action not in ACTIONS:
        return _not_found(request, f"no action {action!r}")
    try:
        with session.begin_nested():
            row = service.get(session, experiment_id=experiment_id)
            if action == "decide" and not _at_horizon(row):
                flash(request, "Fixed horizon: no decision before it ends.", "error")
                return back
            ACTIONS[action](session, experiment_id=experiment_id, now=utcnow())
    except NotFound as exc:
        return _not_found(request, exc.message)
    except PatronError as exc:
        flash(request, exc.message, "error")
        return back
    flash(request, f"Experiment {DONE[action]}.", "success")
    return back


def _at_horizon(row) -> bool:
    """Whether a testing experiment's fixed horizon has passed."""
    end = service.horizon(row)
    return row.state == "testing" and end is not None and utcnow() >= end


def _not_found(request: Request, message: str):
    """The 404 page, back to the list."""
    context = {"message": message, "back_href": "/experiments", "back_label": "Experiments"}
    return render(request, "web/not_found.html", context, status_code=404)


@router.get("/experiments/{experiment_id}")
def experiment_show(
    request: Request, experiment_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """Arms, metrics, the interval chart, the mismatch warning and the verdict."""
    try:
        result = service.report(session, experiment_id=experiment_id, now=utcnow())
    except NotFound as exc:
        return _not_found(request, exc.message)
    return render(
        request,
        "experiments/show.html",
        {"r": result, "chart": chart.geometry(_chart_rows(result))},
    )
