"""Login before body: state-changing requests to guarded pages are refused unread without a login.

FastAPI reads a route's form or JSON body before it runs the route's dependencies, so the
`current_user` guard alone would let an anonymous client make the server read (up to the body
limit) and parse a body. This middleware, inside the session middleware and outside the body
limit, resolves the session first and refuses such requests before a byte of body is received.
"""

from __future__ import annotations

from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from patron.web.session import LOGIN_PATH, current_user, resolve_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NOT_PAGES = ("/api/", "/v1/", "/docs", "/redoc", "/openapi.json", "/static/")
_GUARDED = "patron_guarded_routes"


def _needs_login(dependant: Dependant) -> bool:
    """Whether a route's dependency tree contains the login guard."""
    return any(d.call is current_user or _needs_login(d) for d in dependant.dependencies)


def _api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, inside included routers too (they are included without a prefix)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's lazily included router
            found += _api_routes(route.original_router.routes)
    return found


def guarded_routes(app) -> list[APIRoute]:
    """The routes of the app that depend on `current_user` (found once, then kept)."""
    found = getattr(app.state, _GUARDED, None)
    if found is None:
        found = [r for r in _api_routes(app.routes) if _needs_login(r.dependant)]
        setattr(app.state, _GUARDED, found)
    return found


def _is_guarded(scope) -> bool:
    """Whether this request goes to a guarded route."""
    path, method = scope["path"], scope["method"]
    return any(
        route.path_regex.match(path) and method in route.methods
        for route in guarded_routes(scope["app"])
    )


def _refusal(scope):
    """A browser form is sent to the login page; a script gets 401 with a message."""
    if "text/html" in dict(scope["headers"]).get(b"accept", b"").decode("latin-1"):
        return RedirectResponse(LOGIN_PATH, status_code=303)
    message = "log in first: this page needs a dashboard session"
    return JSONResponse({"error": "unauthorized", "message": message}, status_code=401)


class LoginBeforeBody:
    """ASGI middleware: resolves the user of page requests, refuses unsafe anonymous ones."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        """Resolve the session (in a thread: it reads the database), then pass on or refuse."""
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/api" or path.startswith(NOT_PAGES):
            return await self.app(scope, receive, send)
        user = await run_in_threadpool(resolve_user, Request(scope))
        if user is None and scope["method"] not in SAFE_METHODS and _is_guarded(scope):
            return await _refusal(scope)(scope, receive, send)
        return await self.app(scope, receive, send)
