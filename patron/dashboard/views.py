"""Dashboard shell routes: login and logout."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.errors import Unauthorized
from patron.web.render import render
from patron.web.session import check_csrf, current_user

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


@router.post("/login")
def login(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form(""),
    next: str = Form("/"),
):
    """Check credentials and start a session."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request.app.state.sessions) as session:
            user = auth_service.check_login(
                session=session, email=email, password=password, now=utcnow()
            )
            identity = {"id": user.id, "email": user.email}
    except Unauthorized as exc:
        return render(
            request,
            "dashboard/login.html",
            {"next": _safe_next(next), "error": exc.message, "email": email},
            status_code=401,
        )
    request.session.clear()
    request.session["user"] = identity
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form(""), _user=Depends(current_user)):
    """End the session."""
    check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
