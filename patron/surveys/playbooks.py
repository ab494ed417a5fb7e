"""Survey playbooks: ready-made journeys on `survey_answered`, installed as drafts.

- `detractor_recovery`: a detractor's answer alerts the team (a notify step, mailed to
  PATRON_JOURNEYS_NOTIFY_EMAIL when set), then an apology and an offer to make it right.
- `promoter_ask`: a promoter is thanked and asked for a review and a referral.
Installing again returns the journey installed before (found by its `playbook` name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from patron.errors import NotFound
from patron.journeys import service as journeys
from patron.messages import service as messages
from patron.surveys.events import TRACKED_NAME

DAY = 86400
HI = "<p>Hi {{ customer.first_name or 'there' }},</p>"


@dataclass(frozen=True)
class Playbook:
    """A survey playbook: the category it reacts to, its message and its steps."""

    name: str
    title: str
    category: str
    description: str
    subject: str
    body: str
    notify: str | None


PLAYBOOKS = (
    Playbook(
        "detractor_recovery",
        "Detractor recovery",
        "detractor",
        "Alerts the team at once, then apologises and offers to make it right a day later.",
        "We are sorry, and we want to make it right",
        HI + "<p>Thank you for your honest answer. We are sorry we let you down: reply to this "
        "email and a person from our team will sort it out with you.</p>",
        "Detractor: {{ customer.email }} answered a survey with a low score: follow up today.",
    ),
    Playbook(
        "promoter_ask",
        "Promoter: review and referral",
        "promoter",
        "Thanks a promoter and asks for a product review and a referral.",
        "Thank you! Would you tell others?",
        HI + "<p>Thank you for recommending us! Would you review what you bought (the review "
        "link is in your order email) and tell a friend about us?</p>",
        None,
    ),
)
BY_NAME = {p.name: p for p in PLAYBOOKS}


def _playbook_key(name: str) -> str:
    return f"surveys.{name}"


def _template(session: Session, p: Playbook, now: datetime) -> int:
    """The playbook's template, created through messages when missing."""
    name = f"{p.title}: message"
    for t in messages.list_templates(session=session):
        if t.name == name:
            return t.id
    data = messages.TemplateInput(
        name=name, variants=[messages.VariantInput(subject=p.subject, body=p.body)]
    )
    return messages.create_template(session=session, data=data, now=now).id


def definition(p: Playbook, template_id: int) -> dict:
    """The journey of a playbook: on the tracked answer of its category."""
    where = [{"property": "nps_category", "op": "eq", "value": p.category}]
    send = {"id": "message", "type": "send", "template_id": template_id, "next": None}
    steps = [send]
    if p.notify:
        steps = [
            {"id": "alert", "type": "notify", "line": p.notify, "email": True, "next": "wait"},
            {"id": "wait", "type": "wait", "seconds": DAY, "next": "message"},
            send,
        ]
    return {
        "trigger": {"type": "event", "name": TRACKED_NAME, "where": where},
        "steps": steps,
        "reentry": {"policy": "after_days", "days": 90},
        "exit_on": {"unsubscribed": True},
    }


def _installed(session: Session) -> dict[str, int]:
    found = {}
    after = 0
    while page := journeys.list_journeys(session=session, limit=100, after=after):
        found.update({j.playbook: j.id for j in page if j.playbook})
        after = page[-1].id
    return found


def install(*, session: Session, name: str, now: datetime):
    """Install a playbook as a draft journey: (its journey, whether it is new)."""
    if name not in BY_NAME:
        raise NotFound(f"no survey playbook {name!r} (known: {', '.join(BY_NAME)})")
    p = BY_NAME[name]
    existing = _installed(session).get(_playbook_key(name))
    if existing is not None:
        return journeys.get_journey(session=session, journey_id=existing), False
    journey = journeys.create_journey(
        session=session,
        name=p.title,
        description=p.description,
        definition=definition(p, _template(session, p, now)),
        playbook=_playbook_key(name),
        now=now,
    )
    return journey, True  # a draft: the team reviews it, then resumes it


def listing(*, session: Session) -> list[dict]:
    """The survey playbooks with their installed journey, if any."""
    installed = _installed(session)
    return [
        {
            "name": p.name,
            "title": p.title,
            "description": p.description,
            "journey_id": installed.get(_playbook_key(p.name)),
        }
        for p in PLAYBOOKS
    ]
