"""Use cases of segment exports: members as CSV with their consent, for one audience."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from patron.customers.read import Consent, Customer
from patron.segments.audience import CHANNELS, PERMITTING_STATUS, Audience, may_contact
from patron.segments.service import get_segment
from patron.segments.tables import SegmentMembership

PHONE = re.compile(r"\+[0-9]{3,15}")
PROFILE_COLUMNS = ("external_id", "email", "phone", "first_name", "last_name", "entered_at")


def columns(audience: Audience) -> list[str]:
    """The CSV header: profile, one consent status per channel, then the audience's flag."""
    consents = [f"{channel}_consent" for channel in CHANNELS]
    return ["customer_id", *PROFILE_COLUMNS, *consents, audience.contactable_column]


def audience_counts(*, session: Session, segment_id: int) -> dict:
    """Stored members, and how many of them may be contacted on each channel."""
    get_segment(session=session, segment_id=segment_id)
    m, c, consent = SegmentMembership, Customer, Consent
    # Joined to customers as the export is: a deleted customer's membership is not counted.
    members = session.scalar(
        select(func.count(m.customer_id))
        .join(c, c.id == m.customer_id)
        .where(m.segment_id == segment_id)
    )
    granted = session.execute(
        select(consent.channel, func.count())
        .join(m, m.customer_id == consent.customer_id)
        .join(c, c.id == m.customer_id)
        .where(m.segment_id == segment_id, consent.status == PERMITTING_STATUS)
        .group_by(consent.channel)
    ).all()
    by_channel = dict.fromkeys(CHANNELS, 0) | {channel: n for channel, n in granted}
    return {"members": members or 0, "contactable": by_channel}


def _page(session: Session, segment_id: int, audience: Audience, after: int, limit: int):
    """One keyset page of members above customer id `after`, with each channel's consent."""
    m, c = SegmentMembership, Customer
    joined = {ch: aliased(Consent, name=f"consent_{ch}") for ch in CHANNELS}
    query = select(
        c.id,
        *(getattr(c, name) for name in PROFILE_COLUMNS if name != "entered_at"),
        m.entered_at,
        *(joined[ch].status.label(f"{ch}_consent") for ch in CHANNELS),
    ).join(m, m.customer_id == c.id)
    for channel, row in joined.items():
        query = query.outerjoin(row, and_(row.customer_id == c.id, row.channel == channel))
    status = joined[audience.channel].status
    if audience.audience == "contactable":
        query = query.where(status == PERMITTING_STATUS)
    elif audience.audience == "not_contactable":
        query = query.where(or_(status.is_(None), status != PERMITTING_STATUS))
    query = query.where(m.segment_id == segment_id, c.id > after).order_by(c.id).limit(limit)
    return session.execute(query).all()


def export_csv(
    *, session: Session, segment_id: int, audience: Audience, batch: int = 5000
) -> Iterator[str]:
    """The audience's members as CSV text: a header, then one chunk per batch of rows."""
    get_segment(session=session, segment_id=segment_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns(audience))
    after = 0
    while True:
        rows = _page(session, segment_id, audience, after, batch)
        for row in rows:
            writer.writerow(_cells(row, audience))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < batch:
            return
        after = rows[-1].id


def _cells(row, audience: Audience) -> list[str]:
    """One CSV row: profile cells, consent statuses (unknown when none), the flag."""
    mapping = row._mapping
    statuses = [mapping[f"{ch}_consent"] or "unknown" for ch in CHANNELS]
    flag = may_contact(mapping[f"{audience.channel}_consent"])
    return [
        str(row.id),
        *(_csv_cell(mapping[name]) for name in PROFILE_COLUMNS),
        *statuses,
        "true" if flag else "false",
    ]


def _csv_cell(value) -> str:
    """A CSV cell; formula-like text is quoted so spreadsheets do not run it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if PHONE.fullmatch(text):
        return text  # a phone number in E.164 form is no formula, and SMS tools need its "+"
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
