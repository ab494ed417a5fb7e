"""Playbooks: ready-made journeys, each for the customer type it serves, installed paused.

`install(name)` creates the playbook's message templates through messages' service (simple
HTML, marketing), resolves the built-in segments it targets (patron/segments/builtins.py,
created when missing) and saves the journey with `playbook=name` in state `paused`: the team
reviews and edits it, then resumes it. Installing a playbook again returns the journey it
installed before (and reuses its templates): nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.errors import NotFound
from patron.journeys import service
from patron.journeys.tables import Journey
from patron.messages import service as messages
from patron.segments import service as segments

DAY = 86400
HI = "<p>Hi {{ customer.first_name or 'there' }},</p>"
# The cross-sell shows recommendations' `cross_sell` (products bought with the latest order,
# each link tagged for click tracking) when that capability provides it; else the category line.
CROSS_SELL = (
    HI + "<p>Thanks again for your order. Customers who like "
    "{% for o in orders[:1] %}{% for line in o.lines[:1] %}"
    "{{ line.category or line.name or 'it' }}{% endfor %}{% endfor %}"
    " also pick these:</p>"
    "{% for p in cross_sell | default([]) %}"
    '<p><a href="{{ p.url }}">{{ p.name }}</a> {{ p.price }} {{ p.currency }}</p>'
    "{% endfor %}"
)


@dataclass(frozen=True)
class Playbook:
    """A ready-made journey: who it serves, its templates (key, subject, body) and builder."""

    name: str
    title: str
    serves: str
    description: str
    templates: tuple[tuple[str, str, str], ...]
    build: Callable[[dict[str, int], dict[str, int]], dict]


def _send(sid: str, template_id: int, nxt: str | None) -> dict:
    return {"id": sid, "type": "send", "template_id": template_id, "next": nxt}


def _wait(sid: str, days: int, nxt: str | None) -> dict:
    return {"id": sid, "type": "wait", "seconds": days * DAY, "next": nxt}


def _series(t: dict[str, int], plan: list[tuple[str, int]]) -> list[dict]:
    """Sends separated by waits: [(template key, days to wait before it), ...]."""
    out: list[dict] = []
    for i, (key, days) in enumerate(plan):
        if days:
            out.append(_wait(f"wait_{i}", days, key))
        nxt = f"wait_{i + 1}" if i + 1 < len(plan) and plan[i + 1][1] else None
        if nxt is None and i + 1 < len(plan):
            nxt = plan[i + 1][0]
        out.append(_send(key, t[key], nxt))
    return out


def _welcome(t, s) -> dict:
    return {
        "trigger": {"type": "segment_entered", "segment_id": s["new"]},
        "steps": _series(t, [("welcome", 0), ("getting_started", 2), ("second_order", 5)]),
        "goal": {"type": "order", "within_days": 30},
        "exit_on": {"unsubscribed": True},
    }


def _post_purchase(t, s) -> dict:
    plan = [("thanks", 0), ("tips", 3), ("cross_sell", 4), ("review", 7)]
    return {
        "trigger": {"type": "order"},
        "steps": _series(t, plan),
        "reentry": {"policy": "always"},
        "exit_on": {"unsubscribed": True},
    }


def _winback(stage: str) -> Callable[[dict, dict], dict]:
    def build(t, s) -> dict:
        plan = [("miss_you", 0), ("offer_10", 7), ("offer_20", 7)]
        return {
            "trigger": {"type": "segment_entered", "segment_id": s[stage]},
            "steps": _series(t, plan),
            "goal": {"type": "order"},
            "exit_on": {"left_segment": True, "unsubscribed": True},
            "reentry": {"policy": "after_days", "days": 90},
        }

    return build


def _vip(t, s) -> dict:
    return {
        "trigger": {"type": "segment_entered", "segment_id": s["loyal"]},
        "steps": _series(t, [("thank_you", 0), ("early_access", 14)]),
        "reentry": {"policy": "after_days", "days": 180},
        "exit_on": {"unsubscribed": True},
    }


def _birthday(t, s) -> dict:
    return {
        "trigger": {"type": "date", "field": "birthday", "at": "09:00"},
        "steps": _series(t, [("birthday", 0)]),
        "reentry": {"policy": "after_days", "days": 300},
    }


def _nps(t, s) -> dict:
    return {
        "trigger": {"type": "recurring", "segment_id": s["occasional"], "weekdays": [1]},
        "steps": _series(t, [("nps", 0)]),
        "reentry": {"policy": "after_days", "days": 90},  # a quarter between two asks
    }


def _event(t, s) -> dict:
    either = [{"type": "segment", "segment_id": s[k]} for k in ("ambassador", "loyal")]
    return {
        "trigger": {"type": "lifecycle_changed"},
        "entry_filter": {"type": "or", "children": either},
        "steps": _series(t, [("invitation", 0), ("reminder", 10)]),
        "reentry": {"policy": "after_days", "days": 180},
        "exit_on": {"unsubscribed": True},
    }


def _p(text: str) -> str:
    return HI + f"<p>{text}</p>"


PLAYBOOKS: tuple[Playbook, ...] = (
    Playbook(
        "welcome",
        "Welcome and onboarding",
        "new customers",
        "Welcome, getting started, then a reason for the second purchase; ends on an order.",
        (
            ("welcome", "Welcome to the family", _p("Welcome, and thank you for your order.")),
            ("getting_started", "Getting the most out of it", _p("Here is how to get started.")),
            ("second_order", "A little something for next time", _p("10% off your next order.")),
        ),
        _welcome,
    ),
    Playbook(
        "post_purchase",
        "Post-purchase",
        "every customer who orders",
        "Thanks, tips, a category-based cross-sell, then a review request.",
        (
            ("thanks", "Thank you for your order", _p("Thank you! Your order is on its way.")),
            ("tips", "Tips for your purchase", _p("A few tips to enjoy what you bought.")),
            ("cross_sell", "You might also like", CROSS_SELL),
            ("review", "How did we do?", _p("Would you review your purchase? It takes a minute.")),
        ),
        _post_purchase,
    ),
    Playbook(
        "winback_at_risk",
        "Win-back: at risk",
        "at-risk customers",
        "We miss you, then an escalating offer (10%, 20%); ends on a purchase.",
        (
            ("miss_you", "We miss you", _p("It has been a while. Here is what is new.")),
            ("offer_10", "10% off, just for you", _p("Come back with 10% off your next order.")),
            ("offer_20", "20% off: our best offer", _p("Our best offer: 20% off, this week only.")),
        ),
        _winback("at_risk"),
    ),
    Playbook(
        "winback_former",
        "Win-back: former customers",
        "former customers",
        "We miss you, then an escalating offer (10%, 20%); ends on a purchase.",
        (
            ("miss_you", "It has been too long", _p("We would love to see you again.")),
            ("offer_10", "10% off to welcome you back", _p("Come back with 10% off.")),
            ("offer_20", "20% off: our best offer", _p("Our best offer: 20% off, this week only.")),
        ),
        _winback("former"),
    ),
    Playbook(
        "vip",
        "Loyal and VIP thank-you",
        "loyal customers",
        "A personal thank-you, then early access to the next launch.",
        (
            ("thank_you", "Thank you for being with us", _p("You are one of our best customers.")),
            ("early_access", "Early access, for you first", _p("Shop the new collection early.")),
        ),
        _vip,
    ),
    Playbook(
        "birthday",
        "Birthday",
        "customers with a birthday on file",
        "A birthday greeting with a gift at 09:00 in the customer's time zone.",
        (("birthday", "Happy birthday!", _p("Happy birthday! A gift is waiting for you.")),),
        _birthday,
    ),
    Playbook(
        "nps",
        "Quarterly NPS request",
        "occasional buyers",
        "Asks how likely they are to recommend us, at most once a quarter (Tuesdays 09:00).",
        (("nps", "How likely are you to recommend us?", _p("Reply with a score from 0 to 10.")),),
        _nps,
    ),
    Playbook(
        "appreciation_event",
        "Appreciation event invitation",
        "ambassadors and loyal customers",
        "An invitation to our appreciation event, then a reminder.",
        (
            ("invitation", "You are invited", _p("Join us at our customer appreciation event.")),
            ("reminder", "See you soon?", _p("A reminder: our appreciation event is coming.")),
        ),
        _event,
    ),
)
BY_NAME = {p.name: p for p in PLAYBOOKS}


def get(name: str) -> Playbook:
    """A playbook by name, or NotFound."""
    if name not in BY_NAME:
        raise NotFound(f"no playbook {name!r} (known: {', '.join(BY_NAME)})")
    return BY_NAME[name]


def _builtin_segments(session: Session, now: datetime) -> dict[str, int]:
    """The built-in segments' ids by key, created when missing."""
    segments.ensure_builtin_segments(session=session, now=now)
    found = segments.list_segments(session=session)
    return {s.builtin_key: s.id for s in found if s.builtin_key}


def _templates(session: Session, playbook: Playbook, now: datetime) -> dict[str, int]:
    """The playbook's templates' ids by key, created through messages when missing."""
    existing = {t.name: t.id for t in messages.list_templates(session=session)}
    ids = {}
    for key, subject, body in playbook.templates:
        name = f"{playbook.title}: {key.replace('_', ' ')}"
        if name not in existing:
            data = messages.TemplateInput(
                name=name, variants=[messages.VariantInput(subject=subject, body=body)]
            )
            existing[name] = messages.create_template(session=session, data=data, now=now).id
        ids[key] = existing[name]
    return ids


def definition_of(session: Session, playbook: Playbook, now: datetime) -> dict:
    """The playbook's definition with its templates and segments in place."""
    return playbook.build(_templates(session, playbook, now), _builtin_segments(session, now))


def install(*, session: Session, name: str, now: datetime) -> tuple[Journey, bool]:
    """Install a playbook paused: (its journey, whether it is new)."""
    playbook = get(name)
    found = session.scalar(select(Journey).where(Journey.playbook == name).order_by(Journey.id))
    if found is not None:
        return found, False
    journey = service.create_journey(
        session=session,
        name=playbook.title,
        description=f"For {playbook.serves}. {playbook.description}",
        definition=definition_of(session, playbook, now),
        playbook=name,
        now=now,
    )
    journey.state = "paused"  # ready, not running: the team resumes it when it suits them
    session.flush()
    return journey, True


def install_all(*, session: Session, now: datetime) -> list[Journey]:
    """Install every playbook (the demo); those installed already are left as they are."""
    return [install(session=session, name=p.name, now=now)[0] for p in PLAYBOOKS]


def listing(*, session: Session) -> list[dict]:
    """Every playbook with who it serves and its installed journey, if any."""
    query = select(Journey.playbook, Journey.id).where(Journey.playbook.isnot(None))
    installed = {name: journey_id for name, journey_id in session.execute(query)}
    return [
        {
            "name": p.name,
            "title": p.title,
            "serves": p.serves,
            "description": p.description,
            "journey_id": installed.get(p.name),
        }
        for p in PLAYBOOKS
    ]
