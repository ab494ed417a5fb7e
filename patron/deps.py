"""FastAPI dependencies shared by every capability's router: session and API-key scopes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from patron.auth import service as auth_service
from patron.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer pat_...`")


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, else rolled back.

    Use it as `SESSION` below (scope="function"): the commit then runs before the
    response is sent, so a failed commit is answered as an error instead of a lost 200.
    """
    factory = request.app.state.sessions
    with factory() as session, session.begin():
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """One read-only transaction per request: never waits for a writer, cannot write."""
    factory = request.app.state.read_sessions
    with factory() as session, session.begin():
        yield session


# The request's session as a parameter default: `session: Session = SESSION`.
SESSION = Depends(get_session, scope="function")
# The same for GET routes that only read: `session: Session = READ_SESSION`.
READ_SESSION = Depends(get_read_session, scope="function")


def require_scope(scope: str) -> Callable:
    """Dependency that demands an API key granting `scope`; returns the key's id."""

    def check(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> int:
        if credentials is None:
            raise Unauthorized("an API key is required: send `Authorization: Bearer <key>`")
        return auth_service.authenticate_key(
            factory=request.app.state.sessions, key=credentials.credentials, scope=scope
        )

    return check


# Route dependencies by scope, for `@router.get(..., dependencies=READ)`.
READ = [Depends(require_scope("read"))]
WRITE = [Depends(require_scope("write"))]
ADMIN = [Depends(require_scope("admin"))]
