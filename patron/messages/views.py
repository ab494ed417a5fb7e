"""Pages of messages: the capture mailbox (login) and the public unsubscribe page and POST.

The unsubscribe URL is the one in List-Unsubscribe: a mail client's one-click button POSTs
`List-Unsubscribe=One-Click` to it (RFC 8058) with no cookie and no CSRF token, and the
signed token is the only proof needed. The GET page shows a button that POSTs the same form,
so a person unsubscribes in one click too. A tampered token answers 400 and changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import InvalidInput, NotFound
from patron.messages import (
    config,
    links,
    optin,
    preferences,
    rules,
    service,
    suppressions,
    tracking,
)
from patron.web.render import render, templates
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
MAILBOX_PAGE = 50


def _public(name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    """A public page outside the dashboard layout (no session, so no cookie)."""
    html = templates().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _unsubscribe_of(request: Request, token: str) -> dict | None:
    """The payload of an unsubscribe token, or None when it is not valid."""
    try:
        return links.read_unsubscribe(request.app.state.settings.secret_key, token, now=utcnow())
    except rules.BadToken:
        return None


_BAD_LINK = {"title": "This link is not valid", "state": "invalid"}


@router.get("/u/{token}")
def unsubscribe_page(request: Request, token: str):
    """A page with one button that unsubscribes (GET never changes anything)."""
    if _unsubscribe_of(request, token) is None:
        return _public("messages/unsubscribe.html", _BAD_LINK, status_code=400)
    return _public(
        "messages/unsubscribe.html", {"title": "Unsubscribe", "state": "ask", "token": token}
    )


@router.post("/u/{token}")
def unsubscribe_now(request: Request, token: str, session: Session = SESSION):
    """RFC 8058 one-click: unsubscribe from marketing email, no cookie or CSRF needed."""
    payload = _unsubscribe_of(request, token)
    if payload is None:
        return _public("messages/unsubscribe.html", _BAD_LINK, status_code=400)
    now = utcnow()
    if service.unsubscribe(session=session, customer_id=payload["c"], now=now):
        tracking.unsubscribed(session, outbox_id=payload.get("m"), now=now)
    return _public("messages/unsubscribe.html", {"title": "Unsubscribed", "state": "done"})


# A transparent 1x1 GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c000000000100010000020144003b"
)
_NO_STORE = {"Cache-Control": "no-store, private"}


@router.get("/c/{token}")
def click(request: Request, token: str, session: Session = SESSION):
    """A tracked link: record the click and redirect to the URL the signed token carries."""
    try:
        url = tracking.click(
            session,
            secret=request.app.state.settings.secret_key,
            token=token,
            user_agent=request.headers.get("user-agent"),
            now=utcnow(),
        )
    except rules.BadToken:
        return _public("messages/unsubscribe.html", _BAD_LINK, status_code=400)
    if url is None:  # the honeypot: a page with nothing on it
        return HTMLResponse("", status_code=200, headers=_NO_STORE)
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


@router.get("/o/{token}.gif")
def open_pixel(request: Request, token: str, session: Session = SESSION):
    """The open pixel (404 unless PATRON_MESSAGES_TRACK_OPENS is on)."""
    secret = request.app.state.settings.secret_key
    if not config.from_env(secret).track_opens:
        return Response(status_code=404)
    try:
        tracking.open_(
            session,
            secret=secret,
            token=token,
            user_agent=request.headers.get("user-agent"),
            now=utcnow(),
        )
    except rules.BadToken:
        return Response(status_code=400)
    return Response(PIXEL, media_type="image/gif", headers=_NO_STORE)


def _preferences_customer(request: Request, token: str) -> int | None:
    """The customer of a preference centre token, or None when it is not valid."""
    try:
        secret = request.app.state.settings.secret_key
        return preferences.read_preferences(secret, token, now=utcnow())
    except rules.BadToken:
        return None


_BAD_PREFERENCES = {"title": "This link is not valid", "state": "invalid", "prefs": None}


@router.get("/p/{token}")
def preference_centre(request: Request, token: str, session: Session = READ_SESSION):
    """The preference centre: email consent and subscription topics."""
    customer_id = _preferences_customer(request, token)
    if customer_id is None:
        return _public("messages/preferences.html", _BAD_PREFERENCES, status_code=400)
    try:
        prefs = preferences.preferences_of(session=session, customer_id=customer_id)
    except NotFound:
        return _public("messages/preferences.html", _BAD_PREFERENCES, status_code=400)
    context = {"title": "Your email preferences", "state": "ask", "prefs": prefs, "token": token}
    return _public("messages/preferences.html", context)


@router.post("/p/{token}")
def preference_centre_save(
    request: Request,
    token: str,
    topic: list[str] = Form([]),
    email: str = Form(""),
    session: Session = SESSION,
):
    """Save the form (the signed link is the proof, as for unsubscribe)."""
    customer_id = _preferences_customer(request, token)
    if customer_id is None:
        return _public("messages/preferences.html", _BAD_PREFERENCES, status_code=400)
    try:
        prefs = preferences.save(
            session=session,
            customer_id=customer_id,
            email_consent=email == "1",
            topics=topic,
            now=utcnow(),
        )
    except NotFound:
        return _public("messages/preferences.html", _BAD_PREFERENCES, status_code=400)
    context = {"title": "Your email preferences", "state": "saved", "prefs": prefs, "token": token}
    return _public("messages/preferences.html", context)


def _confirm_customer(request: Request, token: str) -> int | None:
    """The customer of a confirmation token, or None when tampered with or expired."""
    try:
        return optin.read_confirm(request.app.state.settings.secret_key, token, now=utcnow())
    except rules.BadToken:
        return None


@router.get("/confirm/{token}")
def confirm_page(request: Request, token: str):
    """The double opt-in page: one button (GET confirms nothing, so link scanners do not)."""
    if _confirm_customer(request, token) is None:
        return _public("messages/confirm.html", _BAD_LINK, status_code=400)
    return _public(
        "messages/confirm.html",
        {"title": "Confirm your subscription", "state": "ask", "token": token},
    )


@router.post("/confirm/{token}")
def confirm_now(request: Request, token: str, session: Session = SESSION):
    """Confirm the pending email consent the signed link names."""
    customer_id = _confirm_customer(request, token)
    if customer_id is None:
        return _public("messages/confirm.html", _BAD_LINK, status_code=400)
    done = optin.confirm(session=session, customer_id=customer_id, now=utcnow())
    state = "done" if done else "nothing"
    return _public("messages/confirm.html", {"title": "Subscription confirmed", "state": state})


@router.get("/messages/mailbox")
def mailbox(
    request: Request,
    before: int | None = Query(None, ge=1),
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """Messages the `capture` channel kept, newest first."""
    rows = service.mailbox(session=session, before_id=before, limit=MAILBOX_PAGE + 1)
    more = len(rows) > MAILBOX_PAGE
    rows = rows[:MAILBOX_PAGE]
    return render(
        request,
        "messages/mailbox.html",
        {"messages": rows, "older": rows[-1].id if more else None},
    )


@router.get("/messages/mailbox/{captured_id}")
def mailbox_message(
    request: Request, captured_id: int, _user=Depends(current_user), session=READ_SESSION
):
    """One captured message: its HTML in a sandboxed frame, its text and headers."""
    try:
        message = service.captured(session=session, captured_id=captured_id)
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {"message": exc.message, "back_href": "/messages/mailbox", "back_label": "Mailbox"},
            status_code=404,
        )
    return render(request, "messages/mailbox_message.html", {"message": message})


@router.get("/messages/suppressions")
def suppression_list(
    request: Request,
    after: str | None = Query(None, max_length=320),
    q: str | None = Query(None, max_length=320),
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """The suppression list, each address with a "clear" button."""
    rows = suppressions.list_suppressions(
        session=session, after=after, limit=MAILBOX_PAGE + 1, search=q
    )
    more = len(rows) > MAILBOX_PAGE
    rows = rows[:MAILBOX_PAGE]
    return render(
        request,
        "messages/suppressions.html",
        {"rows": rows, "q": q or "", "next_after": rows[-1].address if more else None},
    )


@router.post("/messages/suppressions/clear")
def suppression_clear(
    request: Request,
    address: str = Form(""),
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Clear one address: messages may go to it again."""
    check_csrf(request, csrf_token)
    try:
        suppressions.clear(session=session, address=address)
    except (NotFound, InvalidInput) as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"{address} was cleared: messages may go to it again.", "success")
    return RedirectResponse("/messages/suppressions", status_code=303)
