"""Installs the web kernel on the app: sessions, static assets, limits, headers, error answers.

The kernel, not the dashboard capability, installs the session middleware: the login guard,
CSRF and flashes live here and every capability's pages depend on them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from patron.web.errors import install_handlers
from patron.web.headers import SecurityHeaders
from patron.web.limits import BodyLimit

KERNEL_STATIC = Path(__file__).parent / "static"


def static_files(folders: list[Path]) -> StaticFiles:
    """One /static mount serving the kernel's assets, then each capability's, first match wins."""
    files = StaticFiles(directory=KERNEL_STATIC)
    files.all_directories = [KERNEL_STATIC, *folders]
    return files


def favicon() -> FileResponse:
    """The icon browsers ask for at /favicon.ico (pages link the SVG one)."""
    return FileResponse(
        KERNEL_STATIC / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def install(app: FastAPI) -> None:
    """Add the kernel's middleware, mount and handlers (after the capabilities' set-up)."""
    settings = app.state.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="patron_session",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    # Added last, so outermost: refused bodies and every answer carry the headers.
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_api_route("/favicon.ico", favicon, methods=["GET"], include_in_schema=False)
    app.mount("/static", static_files(app.state.registry.static_dirs()), name="static")
    install_handlers(app)
