"""The admin pages' guard: a logged-in user who is an administrator."""

from __future__ import annotations

from fastapi import Depends, Request

from patron.auth import service as auth
from patron.db import read_transaction
from patron.errors import Forbidden
from patron.web.session import current_user


def admin_user(request: Request, user: dict = Depends(current_user)) -> dict:
    """Dependency: the logged-in user, refused with 403 unless an administrator."""
    with read_transaction(request.app.state.read_sessions) as session:
        allowed = auth.is_admin(session=session, user_id=int(user.get("id", 0)))
    if not allowed:
        raise Forbidden("only administrators may use the Admin pages")
    return user


ADMIN = Depends(admin_user)
