"""Double opt-in: a pending email grant gets a confirmation mail with a signed link.

With PATRON_MESSAGES_DOUBLE_OPT_IN on, the customers service records a new email grant from an
unconfirmed source as `pending` and appends `consent.changed` (status pending). This consumer
of the event queues the built-in transactional template CONFIRM_TEMPLATE (created on first
need, then editable like any other; recreated when missing) with `data.confirm_url`, outside
the writer's transaction. GET /confirm/{token} shows a button and only its POST confirms, so
link scanners that fetch every link confirm nothing; confirming grants consent through the
customers service with source `double_opt_in`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.events.types import StoredEvent
from patron.messages import enqueue, rules, sender
from patron.messages.tables import Template, TemplateVariant

CONSUMER = "messages.double_opt_in"
EVENT_TYPES = ("consent.changed",)
CONFIRM = "confirm"
CONFIRM_TEMPLATE = "Confirm your subscription"
CONFIRM_DAYS = 7
SOURCE = "double_opt_in"
CONFIRM_SUBJECT = "Please confirm your subscription"
CONFIRM_BODY = """<p>Hello{% if customer.first_name %} {{ customer.first_name }}{% endif %},</p>
<p>Please confirm that you want to receive our email.</p>
<p><a href="{{ data.confirm_url }}">Confirm my subscription</a></p>
<p>If you did not ask for it, ignore this message: you will get nothing more.</p>
"""


def confirm_token(secret: str, *, customer_id: int, now: datetime) -> str:
    """The signed token of a confirmation link, valid for CONFIRM_DAYS days."""
    return rules.sign(
        secret, CONFIRM, {"c": customer_id}, expires=now + timedelta(days=CONFIRM_DAYS)
    )


def confirm_url(public_url: str, secret: str, *, customer_id: int, now: datetime) -> str:
    """The link of the confirmation mail."""
    token = confirm_token(secret, customer_id=customer_id, now=now)
    return f"{public_url.rstrip('/')}/confirm/{token}"


def read_confirm(secret: str, token: str, *, now: datetime) -> int:
    """The customer of a confirmation token; rules.BadToken when tampered with or expired."""
    customer_id = rules.verify(secret, CONFIRM, token, now=now).get("c")
    if not isinstance(customer_id, int):
        raise rules.BadToken("the link is malformed")
    return customer_id


def confirm(*, session: Session, customer_id: int, now: datetime) -> bool:
    """Grant the customer's pending email consent; False when nothing was pending."""
    return customers.confirm_consent(
        session=session, customer_id=customer_id, channel="email", now=now
    )


def ensure_template(session: Session, *, now: datetime) -> int:
    """The id of the built-in confirmation template, created when missing."""
    found = session.scalar(select(Template.id).where(Template.name == CONFIRM_TEMPLATE))
    if found is not None:
        return found
    template = Template(
        name=CONFIRM_TEMPLATE, channel="email", kind="transactional", created_at=now, updated_at=now
    )
    session.add(template)
    session.flush()
    session.add(
        TemplateVariant(
            template_id=template.id, locale="", subject=CONFIRM_SUBJECT, body=CONFIRM_BODY
        )
    )
    session.flush()
    return template.id


def on_consent_changed(*, session: Session, events: list[StoredEvent], now: datetime) -> None:
    """Queue one confirmation mail per email consent that became pending."""
    pending = [
        e
        for e in events
        if e.data.get("channel") == "email"
        and e.data.get("status") == "pending"
        and e.customer_id is not None
    ]
    if not pending:
        return
    config = sender.current_config()
    template_id = ensure_template(session, now=now)
    for event in pending:
        url = confirm_url(
            config.public_url, config.secret_key, customer_id=event.customer_id, now=now
        )
        enqueue.enqueue_one(
            session,
            customer_id=event.customer_id,
            template_id=template_id,
            kind="transactional",
            source=SOURCE,
            source_id=template_id,
            occurrence=f"event:{event.id}",
            data={"confirm_url": url},
            now=now,
        )
    sender.wake(session, lane="transactional", now=now)
