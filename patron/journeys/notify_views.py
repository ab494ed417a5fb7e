"""Dashboard page of team notifications: the lines journeys' notify steps wrote, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.deps import SESSION
from patron.journeys import effects
from patron.web.render import render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)
SHOWN = 100


@router.get("/journeys/notifications")
def notifications_page(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """The newest team notifications with their customer and journey."""
    rows = effects.notifications(session=session, limit=SHOWN)
    return render(request, "journeys/notifications.html", {"notifications": rows})
