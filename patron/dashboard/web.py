"""Dashboard plumbing every capability's pages use: templates, login guard, CSRF, flashes."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from patron.customers.rules import minor_digits
from patron.errors import Forbidden
from patron.manifest import installed

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
CSRF_FIELD = "csrf_token"


def _template_dirs() -> list[str]:
    """Every capability's templates folder (a page lives at <capability>/templates/<cap>/x)."""
    return sorted(str(p) for p in PACKAGE_ROOT.glob("*/templates") if p.is_dir())


def money(cents: int | None, currency: str = "USD", whole: bool = False) -> str:
    """Format integer minor units as an amount, e.g. 123456 -> $1,234.56 (whole: $1,235)."""
    if cents is None:
        return "–"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    digits = minor_digits(currency)
    amount = f"{abs(cents) / 10**digits:,.{0 if whole else digits}f}"
    sign = "-" if cents < 0 else ""
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def number(value: int | None) -> str:
    """Format a count with thousands separators."""
    return "–" if value is None else f"{value:,}"


def percent(rate: float | None, digits: int = 1) -> str:
    """Format a share between 0 and 1 as a percentage."""
    return "–" if rate is None else f"{rate * 100:.{digits}f}%"


def when(moment: datetime | None) -> str:
    """Format an aware timestamp for tables, in UTC."""
    return "–" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


templates = Jinja2Templates(directory=_template_dirs())
templates.env.loader = ChoiceLoader([FileSystemLoader(d) for d in _template_dirs()])
templates.env.filters.update(money=money, number=number, percent=percent, when=when)


class LoginRequired(Exception):
    """Raised by the guard when no one is logged in; answered with a redirect to /login."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, presented: str | None) -> None:
    """Refuse a state-changing request whose CSRF token does not match the session's."""
    expected = request.session.get(CSRF_FIELD, "")
    if not presented or not expected or not hmac.compare_digest(presented, expected):
        raise Forbidden("the form has expired or did not come from this site; reload the page")


def current_user(request: Request) -> dict:
    """Dependency for pages: the logged-in user, or a redirect to the login page."""
    user = request.session.get("user")
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
    request.session["flashes"] = [
        *request.session.get("flashes", []),
        {"kind": kind, "message": message},
    ]


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200):
    """Render a dashboard page with the layout's shared context."""
    flashes = request.session.pop("flashes", [])
    base = {
        "request": request,
        "user": request.session.get("user"),
        "csrf_token": csrf_token(request),
        "flashes": flashes,
        "path": request.url.path,
        "nav": installed().nav(),
    }
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
