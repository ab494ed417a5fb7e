"""Consent per channel: recording it (a grant may wait as pending), confirming, reading.

Published through `patron.customers.service`, which re-exports these.
"""

from __future__ import annotations

import os
from datetime import datetime

from sqlalchemy.orm import Session

from patron.customers import events as ev
from patron.customers import rules
from patron.customers.tables import Consent, Customer
from patron.events.service import append


def set_consent(
    *, session: Session, customer: Customer, channel: str, status: str, source: str, now: datetime
) -> None:
    """Records a customer's consent status on one channel (a grant may wait as pending)."""
    rules.check_consent(channel, status)
    current = next((c for c in customer.consents if c.channel == channel), None)
    previous = current.status if current else "unknown"
    status = rules.consent_to_store(
        channel, status, previous=previous, source=source, double_opt_in=double_opt_in()
    )
    if current is None:
        customer.consents.append(
            Consent(channel=channel, status=status, updated_at=now, source=source)
        )
    elif current.status != status:
        current.status, current.updated_at, current.source = status, now, source
    if previous != status:
        change = ev.ConsentChanged(customer.id, channel, status, previous, source)
        append(session, [change], now=now)


def double_opt_in() -> bool:
    """Whether PATRON_MESSAGES_DOUBLE_OPT_IN is on (new email grants wait for confirmation)."""
    value = os.environ.get("PATRON_MESSAGES_DOUBLE_OPT_IN", "false")
    return value.strip().lower() in ("1", "true", "yes", "on")


def confirm_consent(*, session: Session, customer_id: int, channel: str, now: datetime) -> bool:
    """Grant a pending consent the customer confirmed; False when nothing was pending."""
    customer = session.get(Customer, customer_id)
    if customer is None or consent_status(customer, channel) != "pending":
        return False
    set_consent(
        session=session,
        customer=customer,
        channel=channel,
        status="granted",
        source="double_opt_in",
        now=now,
    )
    session.flush()
    return True


def consent_status(customer: Customer, channel: str) -> str:
    """A customer's consent on a channel; unknown when never recorded."""
    return next((c.status for c in customer.consents if c.channel == channel), "unknown")


def record_consents(
    *, session: Session, customer: Customer, consents: dict[str, tuple[str, str]], now: datetime
) -> None:
    """Records several channels' consent, each as (status, source)."""
    for channel, (status, source) in consents.items():
        set_consent(
            session=session,
            customer=customer,
            channel=channel,
            status=status,
            source=source,
            now=now,
        )
    session.flush()
