"""The dashboard session: login guard, CSRF token and one-time flash messages."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request

from patron.auth import sessions as auth_sessions
from patron.db import utcnow
from patron.errors import Forbidden

CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/login"
SESSION_ID = "sid"  # the cookie's only identity: a random token naming a server-side session
USER_KEY = "patron.user"  # where the request's resolved identity is kept (None: nobody)


class LoginRequired(Exception):
    """Raised by the guard when no one is logged in; answered with a redirect to /login."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def session_of(request: Request) -> dict:
    """The request's session, or an empty one outside the session middleware (error pages)."""
    return request.scope.get("session", {})


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    session = session_of(request)
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, presented: str | None) -> None:
    """Refuse a state-changing request whose CSRF token does not match the session's."""
    expected = session_of(request).get(CSRF_FIELD, "")
    if not presented or not expected or not hmac.compare_digest(presented, expected):
        raise Forbidden("the form has expired or did not come from this site; reload the page")


def lifetime_of(settings) -> auth_sessions.Lifetime:
    """How long dashboard sessions last under these settings."""
    idle = settings.session_idle_minutes
    return auth_sessions.Lifetime(settings.session_hours, timedelta(minutes=idle) if idle else None)


def resolve_user(request: Request) -> dict | None:
    """The identity of the request's session row ({id, email, session_id}), or None; cached."""
    if USER_KEY in request.scope:
        return request.scope[USER_KEY]
    session = session_of(request)
    token = session.get(SESSION_ID)
    user = None
    if isinstance(token, str) and token:
        user = auth_sessions.check(
            factory=request.app.state.sessions,
            token=token,
            lifetime=lifetime_of(request.app.state.settings),
            now=utcnow(),
        )
        if user is None:
            session.pop(SESSION_ID, None)  # revoked or expired: drop it from the cookie
    request.scope[USER_KEY] = user
    return user


def known_user(request: Request) -> dict | None:
    """The identity if it was already resolved for this request (never a database read)."""
    return request.scope.get(USER_KEY)


def start_session(request: Request, token: str, identity: dict) -> None:
    """Replace the cookie's session by a new login (a fresh cookie: no fixation)."""
    session = session_of(request)
    session.clear()
    session[SESSION_ID] = token
    request.scope[USER_KEY] = identity


def end_session(request: Request) -> None:
    """Forget the login in the cookie."""
    session_of(request).clear()
    request.scope[USER_KEY] = None


def current_user(request: Request) -> dict:
    """Dependency for pages: the logged-in user, or a redirect to the login page."""
    user = resolve_user(request)
    if not user:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(quote(target, safe="/?=&"))
    return user


async def require_csrf(request: Request) -> None:
    """Dependency for form posts: checks the CSRF field of the submitted form."""
    form = await request.form()
    check_csrf(request, form.get(CSRF_FIELD) or request.headers.get("x-csrf-token"))


def flash(request: Request, message: str, kind: str = "info") -> None:
    """Queue a one-time message for the next page."""
    # Reassign: the session is saved only when a key is set, not when a list is mutated.
    session = session_of(request)
    session["flashes"] = [*session.get("flashes", []), {"kind": kind, "message": message}]


def pop_flashes(request: Request) -> list[dict]:
    """The queued messages, removed from the session."""
    return session_of(request).pop("flashes", [])
