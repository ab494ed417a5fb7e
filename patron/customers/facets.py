"""Filters and columns of the customer list, the built-in ones and those others contribute.

Another capability adds one through its manifest: `contributes={"customers.list_facets":
(ListFacet(...),)}`. The customer list then offers its options as a filter and shows its values
as a column, without importing that capability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from patron.customers.rules import CONSENT_CHANNELS, CONSENT_STATUSES
from patron.customers.tables import Consent, Customer
from patron.errors import InvalidInput

POINT = "customers.list_facets"


@dataclass(frozen=True)
class ListFacet:
    """A filter and a column of the customer list.

    `options(session=)` gives the filter's [(value, label)]; `where(value)` a SQL boolean over
    `Customer` (InvalidInput for a value it does not know); `values(session=, customer_ids=)`
    the column's text by customer id (None: no column).
    """

    name: str
    label: str
    options: Callable[..., list[tuple[str, str]]]
    where: Callable[[str], Any]
    values: Callable[..., dict[int, str]] | None = None
    order: int = 100


def _consent_options(*, session: Session) -> list[tuple[str, str]]:
    """Every channel and status, e.g. ("email:granted", "email granted")."""
    return [
        (f"{channel}:{status}", f"{channel} {status}")
        for channel in CONSENT_CHANNELS
        for status in CONSENT_STATUSES
    ]


def _consent_where(value: str):
    """Customers with this consent status on the channel (unknown: none recorded)."""
    channel, _, status = value.partition(":")
    if channel not in CONSENT_CHANNELS or status not in CONSENT_STATUSES:
        raise InvalidInput("consent: choose a channel and status such as email:granted")
    on_channel = (Consent.customer_id == Customer.id) & (Consent.channel == channel)
    if status == "unknown":
        return ~exists(select(Consent.customer_id).where(on_channel))
    return exists(select(Consent.customer_id).where(on_channel, Consent.status == status))


CONSENT = ListFacet("consent", "Consent", _consent_options, _consent_where, order=90)


def facets(contributed: list[ListFacet]) -> list[ListFacet]:
    """The built-in facets and the contributed ones, by order."""
    return sorted([CONSENT, *contributed], key=lambda f: f.order)
