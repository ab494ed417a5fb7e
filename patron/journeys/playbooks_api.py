"""REST API of playbooks: list them, install one (paused; again returns the same journey)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.journeys import playbooks

router = APIRouter(prefix="/api/journeys/playbooks", tags=["journeys"])


class PlaybookRead(BaseModel):
    """A playbook: who it serves and the journey it installed, if any."""

    name: str
    title: str
    serves: str
    description: str
    journey_id: int | None


class Installed(BaseModel):
    """The installed journey and whether this call created it."""

    journey_id: int
    state: str
    created: bool


@router.get("", response_model=list[PlaybookRead], dependencies=READ)
def list_playbooks(session: Session = READ_SESSION):
    """Every playbook."""
    return playbooks.listing(session=session)


@router.post("/{name}", response_model=Installed, dependencies=WRITE)
def install_playbook(name: str, response: Response, session: Session = SESSION):
    """Install a playbook paused (201); installed before: the same journey (200)."""
    journey, created = playbooks.install(session=session, name=name, now=utcnow())
    response.status_code = 201 if created else 200
    return Installed(journey_id=journey.id, state=journey.state, created=created)
