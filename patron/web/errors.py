"""Error answers: HTML pages on dashboard URLs, JSON on API URLs; never a bare close."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from patron.errors import PatronError
from patron.web.headers import headers_for
from patron.web.render import render
from patron.web.session import LOGIN_PATH, LoginRequired

log = logging.getLogger("patron")
API_PREFIXES = ("/api/", "/v1/", "/docs", "/redoc", "/openapi.json")
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 405: "method_not_allowed"}
INTERNAL = "something went wrong on our side; the error is logged, please try again later"


def is_page(request: Request) -> bool:
    """Whether the URL is a dashboard page (not the API, the tracking API or the docs)."""
    path = request.url.path
    return not (path == "/api" or path.startswith(API_PREFIXES))


def wants_html(request: Request) -> bool:
    """A page URL asked for by a browser navigation (scripts posting JSON get JSON)."""
    return is_page(request) and "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, heading: str, message: str):
    """The layout with an error message."""
    return render(
        request, "web/error.html", {"heading": heading, "message": message}, status_code=status
    )


async def not_found_or_default(request: Request, exc: HTTPException):
    """Unknown page URL: the HTML not-found page; API: a JSON body with a message."""
    if exc.status_code != 404:
        if is_page(request):
            return await http_exception_handler(request, exc)
        # FastAPI's own refusals (a body that is not JSON: 400) in Patron's error body.
        body = {"error": _CODES.get(exc.status_code, "error"), "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
    message = f"there is no page at {request.url.path}"
    if is_page(request):
        return render(request, "web/not_found.html", {"message": message}, status_code=404)
    return JSONResponse({"error": "not_found", "message": message}, status_code=404)


async def patron_error(request: Request, exc: PatronError):
    """A refused request: an error page for browsers on pages, else the JSON error."""
    if wants_html(request):
        return error_page(request, exc.status, "That did not work", exc.message)
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def internal_error(request: Request, exc: Exception):
    """An unhandled exception: logged, then a 500 page or JSON body (with security headers)."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_page(request):
        answer = error_page(request, 500, "Something went wrong", INTERNAL)
    else:
        answer = JSONResponse({"error": "internal", "message": INTERNAL}, status_code=500)
    # This handler runs outside every middleware, the headers one included.
    answer.headers.update(headers_for(request.url.path))
    return answer


async def to_login(_request: Request, exc: LoginRequired):
    """The login guard's redirect."""
    return RedirectResponse(f"{LOGIN_PATH}?next={exc.next_path}", status_code=303)


def install_handlers(app: FastAPI) -> None:
    """Register the kernel's error answers on the app."""
    app.add_exception_handler(HTTPException, not_found_or_default)
    app.add_exception_handler(PatronError, patron_error)
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(Exception, internal_error)
