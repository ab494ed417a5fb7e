"""Public pages of gatherings, reached by signed links without a login: RSVP, .ics, check-in.

GET /g/rsvp/{token}?answer=yes shows the answer with one button that POSTs it (a mail
scanner following every link answers nothing); POST records it. A tampered or expired token
answers 400 and records nothing. The check-in link of a guest's QR code is opened by the
staff at the door: its POST needs a dashboard login.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import PatronError
from patron.gatherings import links, rules, service
from patron.web.render import templates
from patron.web.session import check_csrf, csrf_token, current_user

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _page(context: dict, status_code: int = 200) -> HTMLResponse:
    """The public RSVP / check-in page outside the dashboard layout."""
    html = templates().get_template("gatherings/public.html").render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_NO_STORE)


def _bad(message: str) -> HTMLResponse:
    """The page of a link that is not valid (400)."""
    return _page({"title": "This link is not valid", "state": "invalid", "message": message}, 400)


def _read(request: Request, purpose: str, token: str) -> tuple[int, int]:
    """(gathering id, customer id) of a token; rules.BadLink when not valid."""
    return rules.verify(request.app.state.settings.secret_key, purpose, token, now=utcnow())


@router.get("/g/rsvp/{token}")
def rsvp_page(
    request: Request,
    token: str,
    answer: str = Query("yes", max_length=8),
    session: Session = READ_SESSION,
):
    """Shows the event and the chosen answer with a button that records it."""
    try:
        gathering_id, customer_id = _read(request, "rsvp", token)
        gathering = service.get_gathering(session=session, gathering_id=gathering_id)
        guest = service.invitation(
            session=session, gathering_id=gathering_id, customer_id=customer_id
        )
    except (rules.BadLink, PatronError) as exc:
        return _bad(str(exc))
    chosen = answer if answer in rules.ANSWERS else "yes"
    return _page(
        {"title": gathering.title, "state": "ask", "gathering": gathering, "token": token}
        | {"answer": chosen, "guest": guest, "answers": rules.ANSWERS}
    )


@router.post("/g/rsvp/{token}")
def rsvp_now(request: Request, token: str, answer: str = Form(""), session: Session = SESSION):
    """Records the answer: a seat, the waitlist, maybe or no."""
    try:
        gathering_id, customer_id = _read(request, "rsvp", token)
        if answer not in rules.ANSWERS:
            return _bad(f"answer must be one of {', '.join(rules.ANSWERS)}")
        guest = service.rsvp(
            session=session,
            gathering_id=gathering_id,
            customer_id=customer_id,
            answer=answer,
            now=utcnow(),
        )
        gathering = service.get_gathering(session=session, gathering_id=gathering_id)
    except (rules.BadLink, PatronError) as exc:
        return _bad(str(exc))
    secret, base = request.app.state.settings.secret_key, links.public_base()
    ics = links.guest_links(secret, base, gathering, customer_id)["ics_url"]
    return _page(
        {"title": gathering.title, "state": "done", "gathering": gathering, "guest": guest}
        | {"ics_url": ics, "token": token, "answers": rules.ANSWERS}
    )


@router.get("/g/ics/{token}.ics")
def ics_file(request: Request, token: str, session: Session = READ_SESSION):
    """The guest's calendar invite."""
    try:
        gathering_id, customer_id = _read(request, "ics", token)
        gathering = service.get_gathering(session=session, gathering_id=gathering_id)
    except (rules.BadLink, PatronError) as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    body = service.ics_of(gathering=gathering, customer_id=customer_id, now=utcnow())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{gathering.id}.ics"'}
        | _NO_STORE,
    )


@router.get("/g/qr/{token}.{kind}")
def checkin_qr(request: Request, token: str, kind: str):
    """The QR code (svg or png) of a guest's check-in link, to show at the door."""
    try:
        _read(request, "checkin", token)
    except rules.BadLink as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    if kind not in ("svg", "png"):
        return Response("the QR code is .svg or .png", status_code=404, media_type="text/plain")
    url = f"{links.public_base()}{links.CHECKIN_PATH}{token}"
    if kind == "png":
        return Response(rules.qr_png(url), media_type="image/png", headers=_NO_STORE)
    return Response(rules.qr_svg(url), media_type="image/svg+xml", headers=_NO_STORE)


@router.get("/g/checkin/{token}")
def checkin_page(request: Request, token: str, session: Session = READ_SESSION):
    """Who the QR code is for, with a button for the staff to check them in."""
    try:
        gathering_id, customer_id = _read(request, "checkin", token)
        gathering = service.get_gathering(session=session, gathering_id=gathering_id)
        guest = service.invitation(
            session=session, gathering_id=gathering_id, customer_id=customer_id
        )
    except (rules.BadLink, PatronError) as exc:
        return _bad(str(exc))
    return _page(
        {"title": f"Check-in: {gathering.title}", "state": "checkin", "gathering": gathering}
        | {"guest": guest, "token": token, "csrf_token": csrf_token(request)}
    )


@router.post("/g/checkin/{token}")
def checkin_now(
    request: Request,
    token: str,
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """The staff checks the guest in (dashboard login needed)."""
    check_csrf(request, csrf_token)
    try:
        gathering_id, customer_id = _read(request, "checkin", token)
        recorded = service.record_attendance(
            session=session,
            gathering_id=gathering_id,
            customer_ids=[customer_id],
            source="checkin",
            now=utcnow(),
        )
        gathering = service.get_gathering(session=session, gathering_id=gathering_id)
    except (rules.BadLink, PatronError) as exc:
        return _bad(str(exc))
    return _page(
        {"title": f"Check-in: {gathering.title}", "state": "checked", "gathering": gathering}
        | {"again": not recorded}
    )
