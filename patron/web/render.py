"""Page rendering: one Jinja2 environment over every capability's templates, built lazily.

Manifests import views, and views import this module: the loader is therefore built from the
registry at the first render, never at import time, so no import cycle can form.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup
from sqlalchemy.orm import Session

from patron.manifest import NavItem, installed
from patron.web.filters import FILTERS
from patron.web.session import csrf_token, pop_flashes, session_of

KERNEL_TEMPLATES = Path(__file__).parent / "templates"


@cache
def templates() -> Jinja2Templates:
    """The shared templates: the kernel's layout, then each capability's folder."""
    folders = [KERNEL_TEMPLATES, *installed().template_dirs()]
    engine = Jinja2Templates(directory=[str(f) for f in folders])
    engine.env.loader = ChoiceLoader([FileSystemLoader(str(f)) for f in folders])
    engine.env.filters.update(FILTERS)
    return engine


def nav() -> list[NavItem]:
    """The top-bar links every installed capability declares, in order."""
    return installed().nav()


def panels(*, session: Session, customer_id: int, settings=None) -> list[Markup]:
    """The customer-page panels the capabilities declare, rendered in order (hidden: None)."""
    rendered = []
    for panel in installed().panels():
        extra = {"settings": settings} if panel.wants_settings else {}
        context = panel.context(session=session, customer_id=customer_id, **extra)
        if context is not None:
            template = templates().get_template(panel.template)
            rendered.append(Markup(template.render(**context)))
    return rendered


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200):
    """Render a dashboard page with the layout's shared context."""
    base = {
        "request": request,
        "user": session_of(request).get("user"),
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        "path": request.url.path,
        "nav": nav(),
    }
    return templates().TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
