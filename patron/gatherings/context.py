"""Template context of gatherings (the `messages.context` extension point).

Each customer gets `gatherings`, a mapping `g<id>` -> that event's details and the guest's
signed links (`rsvp_yes_url`, `rsvp_no_url`, `rsvp_maybe_url`, `ics_url`, `checkin_url`,
`checkin_qr_url`), and `gathering`, the latest event they were invited to. An event's own
templates use `gatherings.g<id>`; an event the customer is not invited to gives empty links,
so a template validated against any customer renders.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.gatherings import links, rules
from patron.gatherings.tables import Gathering, Invitation

_EMPTY_LINKS = dict.fromkeys(
    (
        "rsvp_url",
        "rsvp_yes_url",
        "rsvp_no_url",
        "rsvp_maybe_url",
        "ics_url",
        "checkin_url",
        "checkin_qr_url",
    ),
    "",
)
_EMPTY = {
    "id": 0,
    "title": "",
    "description": "",
    "starts_local": "",
    "ends_local": "",
    "timezone": "",
    "online_url": "",
    "place": "",
    "status": "",
    **_EMPTY_LINKS,
}


class Invitations(dict):
    """`gatherings` of one customer: an unknown event gives empty values, never an error."""

    def __missing__(self, key):
        return dict(_EMPTY)


def details(gathering: Gathering) -> dict:
    """An event's fields as a template shows them (times in its own time zone)."""
    tz = rules.zone(gathering.timezone)
    return {
        "id": gathering.id,
        "title": gathering.title,
        "description": gathering.description,
        "starts_local": gathering.starts_at.astimezone(tz).strftime("%A %d %B %Y, %H:%M"),
        "ends_local": gathering.ends_at.astimezone(tz).strftime("%H:%M"),
        "timezone": gathering.timezone,
        "online_url": gathering.online_url or "",
        "place": gathering.place or "",
    }


def message_context(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """`gatherings` and `gathering` of each customer (one query for all of them)."""
    secret, base = links.secret_and_base()
    rows = session.execute(
        select(Invitation.customer_id, Invitation.status, Gathering)
        .join(Gathering, Gathering.id == Invitation.gathering_id)
        .where(Invitation.customer_id.in_(list(customer_ids)))
        .order_by(Invitation.invited_at, Invitation.id)
    ).all()
    out = {cid: {"gatherings": Invitations(), "gathering": dict(_EMPTY)} for cid in customer_ids}
    cache: dict[int, dict] = {}
    for customer_id, status, gathering in rows:
        base_details = cache.setdefault(gathering.id, details(gathering))
        value = base_details | {"status": status}
        value |= links.guest_links(secret, base, gathering, customer_id)
        out[customer_id]["gatherings"][f"g{gathering.id}"] = value
        out[customer_id]["gathering"] = value
    return out


def _sample() -> dict:
    """The names for a made-up customer."""
    return {"gatherings": Invitations(), "gathering": dict(_EMPTY)}


message_context.sample = _sample  # type: ignore[attr-defined]
