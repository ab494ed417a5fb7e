"""Composition root of the web process: builds the FastAPI app from settings."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from patron.capabilities import boot
from patron.config import Settings
from patron.db import make_engine, make_read_sessionmaker, make_sessionmaker
from patron.errors import PatronError
from patron.web import setup as web
from patron.web.errors import internal_error
from patron.web.inputs import TEXT_GUARD
from patron.web.openapi import ERROR_RESPONSES

log = logging.getLogger("patron")


def _validation_message(exc: RequestValidationError) -> tuple[str, list]:
    """A one-line summary and the detail list of a request validation failure."""
    details = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        details.append({"path": where, "message": error.get("msg", "invalid")})
    first = details[0] if details else {"path": "", "message": "invalid request"}
    prefix = f"{first['path']}: " if first["path"] else ""
    return f"{prefix}{first['message']}", details


def _out_of_range(exc: Exception) -> bool:
    """Whether an error is a value out of the database's or Python's range."""
    if isinstance(exc, OverflowError | DataError):
        return True
    return isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)


def install_error_handlers(app: FastAPI) -> None:
    """Answer PatronError and validation failures with a JSON body and a 4xx status."""

    @app.exception_handler(PatronError)
    async def patron_error(_request: Request, exc: PatronError):
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, exc: IntegrityError):
        # A race the service's own checks could not see (two writers, same unique key).
        log.info("integrity error answered 409: %s", exc.orig)
        return JSONResponse(
            {
                "error": "conflict",
                "message": "the change clashes with stored "
                "data (a duplicate id or a missing reference); nothing was saved",
            },
            status_code=409,
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(StatementError)
    async def out_of_range(request: Request, exc: Exception):
        # The safety net behind the services' own checks: a number or date the database
        # (64-bit integers on SQLite, 32-bit ids on PostgreSQL) or Python cannot hold.
        if not _out_of_range(exc):
            return await internal_error(request, exc)
        log.info("out-of-range value answered 422: %s", exc)
        return JSONResponse(
            {
                "error": "invalid_input",
                "message": "a number or date in the request is out of range; nothing was saved",
            },
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        message, details = _validation_message(exc)
        return JSONResponse(
            {"error": "invalid_input", "message": message, "details": details}, status_code=422
        )


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """Build the app: engine, session factory, every capability's routers and set-up."""
    registry = boot()
    app = FastAPI(
        title="Patron",
        version="0.1.0",
        description="Self-hosted customer marketing platform.",
        docs_url=None,  # /docs and /redoc come from patron.web.docs, with local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.sessions = make_sessionmaker(app.state.engine)
    app.state.read_sessions = make_read_sessionmaker(app.state.engine)
    install_error_handlers(app)
    for router in registry.routers():
        app.include_router(router, responses=ERROR_RESPONSES, dependencies=[TEXT_GUARD])
    for setup in registry.app_setups():
        setup(app)
    web.install(app)
    return app
