"""Use cases of preferences: subscription topics, the preference centre, topic screening.

A topic is opt-in (received only after choosing it) or opt-out (received until leaving it);
a customer's choice is a row in subscription_choices, absent meaning the topic's default.
Channel consent (email) is saved through customers.service.set_consent, the one owner of it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.errors import InvalidInput
from patron.messages import rules
from patron.messages.tables import Template, Topic, TopicChoice

PREFERENCES = "preferences"
# The topics migration 0520 seeds: (key, name, opt_in). Opt-in topics are received only after
# choosing them; opt-out ones until leaving them.
DEFAULT_TOPICS = (
    ("newsletter", "Newsletter", False),
    ("offers", "Offers", False),
    ("events", "Events", True),
    ("product_news", "Product news", True),
)


def preferences_token(secret: str, *, customer_id: int) -> str:
    """The token of a customer's preference centre link (never expires, like unsubscribe)."""
    return rules.sign(secret, PREFERENCES, {"c": customer_id})


def preferences_url(public_url: str, secret: str, *, customer_id: int) -> str:
    """The preference centre link of a customer."""
    return f"{public_url.rstrip('/')}/p/{preferences_token(secret, customer_id=customer_id)}"


def read_preferences(secret: str, token: str, *, now: datetime) -> int:
    """The customer of a preference centre token; rules.BadToken when tampered with."""
    customer_id = rules.verify(secret, PREFERENCES, token, now=now).get("c")
    if not isinstance(customer_id, int):
        raise rules.BadToken("the link is malformed")
    return customer_id


def subscribed(opt_in: bool, choice: bool | None) -> bool:
    """Whether a customer receives a topic: their choice, else the topic's default."""
    return (not opt_in) if choice is None else choice


@dataclass(frozen=True)
class TopicState:
    """A topic as the preference centre shows it to one customer."""

    key: str
    name: str
    opt_in: bool
    subscribed: bool


@dataclass(frozen=True)
class Preferences:
    """What the preference centre shows: email consent and each topic."""

    customer_id: int
    email_consent: bool
    topics: list[TopicState]


def seed_topics(session: Session) -> int:
    """Add the default topics that are missing (as migration 0520 does); returns how many."""
    present = set(session.scalars(select(Topic.key)))
    missing = [Topic(key=k, name=n, opt_in=o) for k, n, o in DEFAULT_TOPICS if k not in present]
    session.add_all(missing)
    session.flush()
    return len(missing)


def list_topics(session: Session) -> list[Topic]:
    """Every subscription topic, by name."""
    return list(session.scalars(select(Topic).order_by(Topic.name)))


def preferences_of(*, session: Session, customer_id: int) -> Preferences:
    """A customer's consent and topic choices; NotFound for an unknown customer."""
    customer = customers.get_customer(session=session, customer_id=customer_id)
    choices = dict(
        session.execute(
            select(TopicChoice.topic, TopicChoice.subscribed).where(
                TopicChoice.customer_id == customer_id
            )
        ).all()
    )
    topics = [
        TopicState(t.key, t.name, t.opt_in, subscribed(t.opt_in, choices.get(t.key)))
        for t in list_topics(session)
    ]
    granted = customers.consent_status(customer, "email") == "granted"
    return Preferences(customer_id, granted, topics)


def save(
    *,
    session: Session,
    customer_id: int,
    email_consent: bool,
    topics: Collection[str],
    now: datetime,
) -> Preferences:
    """Store the preference centre's form: consent, and each topic on or off."""
    customer = customers.get_customer(session=session, customer_id=customer_id)
    known = {t.key for t in list_topics(session)}
    unknown = set(topics) - known
    if unknown:
        raise InvalidInput(f"unknown topics: {', '.join(sorted(unknown))}")
    status = "granted" if email_consent else "unsubscribed"
    if customers.consent_status(customer, "email") != status:
        customers.set_consent(
            session=session,
            customer=customer,
            channel="email",
            status=status,
            source="preference centre",
            now=now,
        )
    for key in known:
        row = session.get(TopicChoice, (customer_id, key))
        if row is None:
            session.add(
                TopicChoice(
                    customer_id=customer_id, topic=key, subscribed=key in topics, updated_at=now
                )
            )
        elif row.subscribed != (key in topics):
            row.subscribed, row.updated_at = key in topics, now
    session.flush()
    return preferences_of(session=session, customer_id=customer_id)


def unwanted(session: Session, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (customer id, template id) pairs whose template's topic the customer does not get."""
    template_ids = {t for _, t in pairs}
    if not template_ids:
        return set()
    topic_of = dict(
        session.execute(
            select(Template.id, Template.topic).where(
                Template.id.in_(template_ids), Template.topic.is_not(None)
            )
        ).all()
    )
    if not topic_of:
        return set()
    opt_in = dict(session.execute(select(Topic.key, Topic.opt_in)).all())
    customer_ids = {c for c, t in pairs if t in topic_of}
    choices = {
        (r.customer_id, r.topic): r.subscribed
        for r in session.scalars(
            select(TopicChoice).where(TopicChoice.customer_id.in_(customer_ids))
        )
    }
    return {
        (c, t)
        for c, t in pairs
        if t in topic_of
        and topic_of[t] in opt_in
        and not subscribed(opt_in[topic_of[t]], choices.get((c, topic_of[t])))
    }
