"""Admin home (refresh now) and the System page (queues, consumers, failed jobs)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.admin import service
from patron.admin.guard import ADMIN
from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import PatronError
from patron.web.render import render
from patron.web.session import check_csrf, flash

router = APIRouter(include_in_schema=False)
SECTIONS = (
    ("/admin", "Refresh"),
    ("/admin/import", "Import"),
    ("/admin/keys", "API keys"),
    ("/admin/users", "Users"),
    ("/admin/system", "System"),
)
ACTIVE = ("pending", "running")


def page(request: Request, name: str, context: dict, status_code: int = 200):
    """Render an admin page with its section menu."""
    return render(
        request, f"admin/{name}.html", {"sections": SECTIONS, **context}, status_code=status_code
    )


@router.get("/admin")
def admin_home(request: Request, _user=ADMIN, session: Session = READ_SESSION):
    """The latest score refresh and the Refresh now button."""
    settings = request.app.state.settings
    job = service.latest_refresh(session=session)
    return page(
        request,
        "home",
        {
            "job": job,
            "running": job is not None and job.state in ACTIVE,
            "every": settings.refresh_interval_minutes,
            "inprocess": settings.inprocess_worker,
        },
    )


@router.post("/admin/refresh")
def refresh_now(
    request: Request, csrf_token: str = Form(""), _user=ADMIN, session: Session = SESSION
):
    """Queue one score refresh (a second click while it waits queues nothing more)."""
    check_csrf(request, csrf_token)
    asked = service.request_refresh(session=session, now=utcnow())
    if asked.already_queued:
        flash(request, f"A refresh is already queued (job {asked.job_id}).", "info")
    else:
        flash(request, f"Refresh queued (job {asked.job_id}).", "success")
    return RedirectResponse("/admin", status_code=303)


@router.get("/admin/system")
def system_page(request: Request, _user=ADMIN, session: Session = READ_SESSION):
    """Job queues, event consumers with their failures, and recently failed jobs."""
    return page(request, "system", {"status": service.system_status(session=session, now=utcnow())})


@router.post("/admin/system/consumers/{name}/retry")
def consumer_retry(
    request: Request,
    name: str,
    csrf_token: str = Form(""),
    _user=ADMIN,
    session: Session = SESSION,
):
    """Let a failing consumer retry at once instead of after its back-off."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            service.retry_consumer(session=session, name=name)
    except PatronError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"{name} will retry at the worker's next pass.", "success")
    return RedirectResponse("/admin/system", status_code=303)
