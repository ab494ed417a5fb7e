"""Admin pages of access: API keys (created with scopes, shown once, revoked) and users."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.admin.guard import ADMIN
from patron.admin.views import page
from patron.auth import rules
from patron.auth import service as auth
from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION
from patron.errors import InvalidInput, PatronError
from patron.web.session import check_csrf, flash

router = APIRouter(include_in_schema=False)


def _keys_page(request, session, *, created=None, error=None, form=None, status_code=200):
    """The key list with the create form (and a just-created key, shown this once)."""
    return page(
        request,
        "keys",
        {
            "keys": auth.list_keys(session=session),
            "scopes": rules.SCOPES,
            "created": created,
            "error": error,
            "form": form or {"name": "", "scopes": ["read"]},
        },
        status_code=status_code,
    )


@router.get("/admin/keys")
def keys_page(request: Request, _user=ADMIN, session: Session = READ_SESSION):
    """API keys with their scopes and state."""
    return _keys_page(request, session)


@router.post("/admin/keys")
async def key_create(request: Request, _user=ADMIN, session: Session = SESSION):
    """Create a key; the page shows it once (only its hash is stored)."""
    submitted = await request.form()
    check_csrf(request, submitted.get("csrf_token"))
    form = {
        "name": str(submitted.get("name", "")).strip(),
        "scopes": [str(s) for s in submitted.getlist("scopes")],
    }
    try:
        if not form["name"]:
            raise InvalidInput("give the key a name, e.g. the shop or tool that will use it")
        with session.begin_nested():
            row, key = auth.create_key(
                session=session, name=form["name"], scopes=",".join(form["scopes"]), now=utcnow()
            )
    except PatronError as exc:
        return _keys_page(request, session, error=exc.message, form=form, status_code=exc.status)
    return _keys_page(request, session, created={"row": row, "key": key})


@router.post("/admin/keys/{key_id}/revoke")
def key_revoke(
    request: Request,
    key_id: int,
    csrf_token: str = Form(""),
    _user=ADMIN,
    session: Session = SESSION,
):
    """Revoke a key: it stops authenticating at once."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            row = auth.revoke_key(session=session, key_id=key_id, now=utcnow())
    except PatronError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, f"Key {row.name} (pat_{row.prefix}_…) revoked.", "success")
    return RedirectResponse("/admin/keys", status_code=303)


def _users_page(request, session, *, error=None, form=None, status_code=200):
    """The user list with the create form."""
    return page(
        request,
        "users",
        {
            "users": auth.list_users(session=session),
            "error": error,
            "form": form or {"email": "", "is_admin": False},
        },
        status_code=status_code,
    )


@router.get("/admin/users")
def users_page(request: Request, _user=ADMIN, session: Session = READ_SESSION):
    """Dashboard users."""
    return _users_page(request, session)


@router.post("/admin/users")
def user_create(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    is_admin: str = Form(""),
    csrf_token: str = Form(""),
    _user=ADMIN,
    session: Session = SESSION,
):
    """Create a dashboard user with a password."""
    check_csrf(request, csrf_token)
    form = {"email": email, "is_admin": bool(is_admin)}
    try:
        if "@" not in email:
            raise InvalidInput("give the user's email address")
        with session.begin_nested():
            user = auth.create_user(
                session=session,
                email=email,
                password=password,
                now=utcnow(),
                is_admin=bool(is_admin),
            )
    except PatronError as exc:
        return _users_page(request, session, error=exc.message, form=form, status_code=exc.status)
    flash(request, f"User {user.email} created; they can log in now.", "success")
    return RedirectResponse("/admin/users", status_code=303)
