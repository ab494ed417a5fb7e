"""Dashboard pages of webhooks: endpoints, the create form, an endpoint's deliveries and actions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import NotFound, PatronError
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash
from patron.webhooks import service

router = APIRouter(include_in_schema=False)
RECENT = 25


def _list_page(request: Request, session: Session, form: dict, error=None, status_code=200):
    """The endpoints with the create form."""
    return render(
        request,
        "webhooks/list.html",
        {
            "endpoints": service.list_endpoints(session=session),
            "event_types": service.subscribable_types(),
            "form": form,
            "error": error,
        },
        status_code=status_code,
    )


def _endpoint_page(request: Request, session: Session, endpoint_id: int, secret: str | None = None):
    """An endpoint with its recent deliveries and attempts (the secret only when just made)."""
    try:
        endpoint = service.get_endpoint(session=session, endpoint_id=endpoint_id)
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/webhooks", "back_label": "Webhooks"},
            status_code=404,
        )
    deliveries = service.list_deliveries(session=session, endpoint_id=endpoint_id, limit=RECENT)
    attempts = service.attempts_of(session=session, delivery_ids=[d.id for d in deliveries])
    return render(
        request,
        "webhooks/endpoint.html",
        {"endpoint": endpoint, "deliveries": deliveries, "attempts": attempts, "secret": secret},
    )


@router.get("/webhooks")
def endpoint_list(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Endpoints with their state, and the form to add one."""
    return _list_page(request, session, {"url": "", "description": "", "event_types": []})


@router.post("/webhooks")
async def endpoint_create(
    request: Request, _user=Depends(current_user), session: Session = SESSION
):
    """Create an endpoint from the form and show its secret this once."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    form = {
        "url": str(submitted.get("url", "")),
        "description": str(submitted.get("description", "")),
        "event_types": [str(t) for t in submitted.getlist("event_types")],
    }
    try:
        with session.begin_nested():
            endpoint = service.create_endpoint(session=session, now=utcnow(), **form)
    except PatronError as exc:
        return _list_page(request, session, form, error=exc, status_code=exc.status)
    flash(
        request, "Endpoint created. Copy its signing secret now: it is shown only once.", "success"
    )
    return _endpoint_page(request, session, endpoint.id, secret=endpoint.secret)


@router.get("/webhooks/{endpoint_id}")
def endpoint_show(
    request: Request, endpoint_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """An endpoint with its recent deliveries."""
    return _endpoint_page(request, session, endpoint_id)


def _act(request: Request, session: Session, csrf_token: str, action, done: str, back: str):
    """Run a form action and redirect with its message or its error."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            action()
    except PatronError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(back, status_code=303)
    flash(request, done, "success")
    return RedirectResponse(back, status_code=303)


@router.post("/webhooks/{endpoint_id}/test")
def endpoint_test(
    request: Request,
    endpoint_id: int,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Queue a test ping."""
    return _act(
        request,
        session,
        csrf_token,
        lambda: service.send_test(session=session, endpoint_id=endpoint_id, now=utcnow()),
        "Test ping queued; it appears below once a worker has sent it.",
        f"/webhooks/{endpoint_id}",
    )


@router.post("/webhooks/{endpoint_id}/enable")
def endpoint_enable(
    request: Request,
    endpoint_id: int,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Re-enable an endpoint, clearing its failures."""
    return _act(
        request,
        session,
        csrf_token,
        lambda: service.enable_endpoint(session=session, endpoint_id=endpoint_id, now=utcnow()),
        "Endpoint enabled.",
        f"/webhooks/{endpoint_id}",
    )


@router.post("/webhooks/{endpoint_id}/disable")
def endpoint_disable(
    request: Request,
    endpoint_id: int,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Disable an endpoint: its waiting deliveries stop."""
    return _act(
        request,
        session,
        csrf_token,
        lambda: service.disable_endpoint(session=session, endpoint_id=endpoint_id, now=utcnow()),
        "Endpoint disabled.",
        f"/webhooks/{endpoint_id}",
    )


@router.post("/webhooks/{endpoint_id}/rotate")
def endpoint_rotate(
    request: Request,
    endpoint_id: int,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Replace the signing secret and show the new one this once."""
    check_csrf(request, csrf_token)
    try:
        endpoint = service.rotate_secret(session=session, endpoint_id=endpoint_id, now=utcnow())
    except NotFound:
        return _endpoint_page(request, session, endpoint_id)
    flash(request, "New signing secret: copy it now, it is shown only once.", "success")
    return _endpoint_page(request, session, endpoint_id, secret=endpoint.secret)


@router.post("/webhooks/{endpoint_id}/delete")
def endpoint_delete(
    request: Request,
    endpoint_id: int,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Delete an endpoint with its deliveries."""
    return _act(
        request,
        session,
        csrf_token,
        lambda: service.delete_endpoint(session=session, endpoint_id=endpoint_id),
        "Endpoint deleted.",
        "/webhooks",
    )


@router.post("/webhooks/deliveries/{delivery_id}/redeliver")
def delivery_redeliver(
    request: Request,
    delivery_id: int,
    csrf_token: str = Form(""),
    endpoint_id: int = Form(0),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Send a delivery again with the same webhook-id."""
    return _act(
        request,
        session,
        csrf_token,
        lambda: service.redeliver(session=session, delivery_id=delivery_id, now=utcnow()),
        "Redelivery queued.",
        f"/webhooks/{endpoint_id}" if endpoint_id else "/webhooks",
    )
