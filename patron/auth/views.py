"""Dashboard pages of one's own account: live sessions (revocable) and the password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.auth import login, sessions
from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import PatronError
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash, lifetime_of

router = APIRouter(include_in_schema=False)
PAGE = "/account/sessions"


def _page(request: Request, session: Session, user: dict, error: str | None = None, status=200):
    """The account page: the user's live sessions and the password form."""
    rows = sessions.list_live(
        session=session,
        user_id=user["id"],
        lifetime=lifetime_of(request.app.state.settings),
        now=utcnow(),
    )
    context = {"sessions": rows, "current_id": user["session_id"], "error": error}
    return render(request, "auth/sessions.html", context, status_code=status)


@router.get(PAGE)
def sessions_page(request: Request, user=Depends(current_user), session: Session = SESSION):
    """List where this user is logged in."""
    return _page(request, session, user)


@router.post(PAGE + "/{session_id}/revoke")
def revoke_session(
    request: Request,
    session_id: int,
    csrf_token: str = Form(""),
    user=Depends(current_user),
    session: Session = SESSION,
):
    """Log one of the user's sessions out."""
    check_csrf(request, csrf_token)
    sessions.revoke(session=session, session_id=session_id, user_id=user["id"], now=utcnow())
    if session_id == user["session_id"]:
        return RedirectResponse("/login", status_code=303)
    flash(request, "That session is logged out.", "success")
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/revoke-others")
def revoke_other_sessions(
    request: Request,
    csrf_token: str = Form(""),
    user=Depends(current_user),
    session: Session = SESSION,
):
    """Log out everywhere but here."""
    check_csrf(request, csrf_token)
    count = sessions.revoke_all(
        session=session, user_id=user["id"], now=utcnow(), keep=user["session_id"]
    )
    flash(request, f"{count} other session{'' if count == 1 else 's'} logged out.", "success")
    return RedirectResponse(PAGE, status_code=303)


@router.post("/account/password")
def change_password(
    request: Request,
    csrf_token: str = Form(""),
    current_password: str = Form(""),
    new_password: str = Form(""),
    user=Depends(current_user),
    session: Session = SESSION,
):
    """Set a new password; every other session of the user is logged out."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            count = login.change_password(
                session=session,
                user_id=user["id"],
                current=current_password,
                new=new_password,
                now=utcnow(),
                keep_session=user["session_id"],
            )
    except PatronError as exc:
        return _page(request, session, user, error=exc.message, status=exc.status)
    others = f"{count} other session{'' if count == 1 else 's'} logged out"
    flash(request, f"Password changed; {others}.", "success")
    return RedirectResponse(PAGE, status_code=303)
