"""Dashboard shell routes: login and logout."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from patron.auth import login as auth_login
from patron.auth.throttle import LoginThrottled
from patron.db import utcnow
from patron.errors import Unauthorized
from patron.web.render import render
from patron.web.session import check_csrf, current_user, end_session, lifetime_of, start_session

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only redirect to local paths after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/"):
    """Show the login form."""
    return render(request, "dashboard/login.html", {"next": _safe_next(next)})


def _refused(request: Request, email: str, next: str, exc: Unauthorized | LoginThrottled):
    """The login form again with the reason (and Retry-After when throttled)."""
    context = {"next": _safe_next(next), "error": exc.message, "email": email}
    answer = render(request, "dashboard/login.html", context, status_code=exc.status)
    if isinstance(exc, LoginThrottled):
        answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


@router.post("/login")
def login(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form(""),
    next: str = Form("/"),
):
    """Check credentials (throttled per account and address) and start a server-side session."""
    check_csrf(request, csrf_token)
    try:
        identity, token = auth_login.log_in(
            factory=request.app.state.sessions,
            email=email,
            password=password,
            address=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
            lifetime=lifetime_of(request.app.state.settings),
            now=utcnow(),
        )
    except (Unauthorized, LoginThrottled) as exc:
        return _refused(request, email, next, exc)
    start_session(request, token, identity)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), user=Depends(current_user)):
    """End the session: its row is revoked, so a saved copy of the cookie stops working."""
    check_csrf(request, csrf_token)
    auth_login.log_out(
        factory=request.app.state.sessions, session_id=user["session_id"], now=utcnow()
    )
    end_session(request)
    return RedirectResponse("/login", status_code=303)
