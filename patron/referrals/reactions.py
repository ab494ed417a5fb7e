"""Referrals' consumer: attribution from sign-ups and tracked events, first orders, refunds.

A referral code arrives as the customer attribute `referral_code` (at sign-up) or as the
`referral_code` (or `ref`) property of a tracked event, typically `Signed Up` or
`Order Completed`; the event's anonymous id and `context.device.id` join the referee's
identity for the self-referral rules.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from patron.customers import read as customers_read
from patron.customers import service as customers
from patron.db import utcnow
from patron.errors import PatronError
from patron.referrals import qualify, service

log = logging.getLogger("patron.referrals")
CONSUMER = "referrals.events"
EVENT_TYPES = frozenset(
    {"customer.created", "event.tracked", "order.completed", "order.refunded", "order.cancelled"}
)
PROPERTIES = ("referral_code", "ref")


def _tracked_code(session: Session, message_id: str) -> tuple[str | None, list, list]:
    """(code, devices, anonymous ids) of a tracked event carrying a referral code."""
    ev = customers_read.Event
    row = session.execute(
        select(ev.properties, ev.context, ev.anonymous_id).where(ev.message_id == message_id)
    ).first()
    if row is None:
        return None, [], []
    props = row.properties or {}
    code = next((str(props[p]) for p in PROPERTIES if props.get(p)), None)
    device = ((row.context or {}).get("device") or {}).get("id")
    return code, [str(device)] if device else [], [row.anonymous_id] if row.anonymous_id else []


def _attribute(session, customer_id, code, source, now, devices=(), anonymous_ids=()) -> None:
    """Attribute from an event; rules record a rejection, unknown codes are only logged."""
    try:
        with session.begin_nested():
            service.attribute(
                session=session,
                referee_customer_id=customer_id,
                code=code,
                source=source,
                now=now,
                devices=devices,
                anonymous_ids=anonymous_ids,
                strict=False,
            )
    except PatronError as exc:
        log.info("customer %s: referral code %s not attributed: %s", customer_id, code, exc)


def on_events(*, session: Session, events, now: datetime) -> None:
    """Handle each event in log order."""
    for e in events:
        if e.customer_id is None:
            continue
        if e.type == "customer.created":
            customer = customers.get_customer(session=session, customer_id=e.customer_id)
            code = (customer.attributes or {}).get("referral_code")
            if code:
                _attribute(session, e.customer_id, str(code), "signup", e.occurred_at)
        elif e.type == "event.tracked":
            code, devices, anonymous = _tracked_code(session, e.data.get("message_id", ""))
            if code:
                when = e.occurred_at
                _attribute(session, e.customer_id, code, "tracking", when, devices, anonymous)
        elif e.type == "order.completed":
            qualify.order_completed(session, e.customer_id, e.data, e.occurred_at)
        elif e.type in ("order.refunded", "order.cancelled"):
            rule = "refunded" if e.type == "order.refunded" else "cancelled"
            qualify.order_reversed(session, e.customer_id, e.data, rule, e.occurred_at)


def message_context(*, session: Session, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`referral_code` and `referral_link` of each customer (codes made on first use)."""
    found = service.existing_codes(session=session, customer_ids=customer_ids)
    missing = [cid for cid in customer_ids if cid not in found]
    if missing:
        try:
            with session.begin_nested():
                found.update(service.add_codes(session=session, customer_ids=missing, now=utcnow()))
        except DBAPIError as exc:  # a read-only preview, or a code drawn twice: none this time
            log.info("referral codes not made: %s", exc)
    return {
        cid: {"referral_code": found.get(cid, ""), "referral_link": _link(found.get(cid))}
        for cid in customer_ids
    }


def _link(code: str | None) -> str:
    """The share link of a code, or empty."""
    return service.share_link(code) if code else ""


def sample_context() -> dict[str, Any]:
    """The provider's names for a made-up customer."""
    return {"referral_code": "K7M3Q9PX", "referral_link": "https://shop.example/?ref=K7M3Q9PX"}


message_context.sample = sample_context  # type: ignore[attr-defined]
