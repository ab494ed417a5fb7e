"""Use cases of gatherings: events, invitations to a segment, RSVPs with a race-free waitlist,
reminders and attendance. Keyword-only arguments; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from patron.customers import read as customers
from patron.errors import InvalidInput, NotFound
from patron.events.service import append, append_select
from patron.gatherings import rules
from patron.gatherings.events import ATTENDED, INVITED, GatheringAttended, GatheringRsvp
from patron.gatherings.tables import Gathering, Invitation
from patron.messages import read as message_read
from patron.messages import service as messages
from patron.segments import read as segments

SOURCE = "gathering"
INVITE = "invite"
SOURCES = ("csv", "webhook", "checkin", "manual")


# Events ------------------------------------------------------------------------------------


def _templates(session: Session, gathering: Gathering, now: datetime) -> None:
    """Create the event's invitation and reminder templates (editable in messages)."""
    key = f"gatherings.g{gathering.id}"
    where = "{{ g.online_url or g.place }}"
    head = f"{{% set g = {key} %}}"
    invite = (
        f"{head}<p>Hello {{{{ customer.first_name or '' }}}},</p>"
        "<p>You are invited to <strong>{{ g.title }}</strong> on {{ g.starts_local }}"
        f" ({{{{ g.timezone }}}}), {where}.</p><p>{{{{ g.description }}}}</p>"
        '<p><a href="{{ g.rsvp_yes_url }}">Yes, I will come</a> · '
        '<a href="{{ g.rsvp_maybe_url }}">Maybe</a> · '
        '<a href="{{ g.rsvp_no_url }}">No</a></p>'
        '<p><a href="{{ g.ics_url }}">Add to my calendar (.ics)</a></p>'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    )
    remind = (
        f"{head}<p>Hello {{{{ customer.first_name or '' }}}},</p>"
        "<p>A reminder: <strong>{{ g.title }}</strong> starts {{ g.starts_local }}"
        f" ({{{{ g.timezone }}}}), {where}.</p>"
        '<p><a href="{{ g.ics_url }}">Calendar (.ics)</a> · '
        '<a href="{{ g.rsvp_no_url }}">I cannot come after all</a></p>'
        "{% if g.place and g.status == 'going' %}<p>Show this code at the door:</p>"
        '<p><img src="{{ g.checkin_qr_url }}" width="160" height="160" alt="Check-in code"></p>'
        "{% endif %}"
    )
    for field, kind, label, body, subject in (
        ("invite_template_id", "marketing", "invitation", invite, "You are invited: {{ g.title }}"),
        ("reminder_template_id", "transactional", "reminder", remind, "Reminder: {{ g.title }}"),
    ):
        template = messages.create_template(
            session=session,
            data=messages.TemplateInput(
                name=f"Gathering {gathering.id} {label}",
                kind=kind,
                variants=[messages.VariantInput(subject=head + subject, body=body)],
            ),
            now=now,
        )
        setattr(gathering, field, template.id)


def create_gathering(*, session: Session, data: rules.GatheringInput, now: datetime) -> Gathering:
    """Create an event with its invitation and reminder templates."""
    data = rules.check(data)
    gathering = Gathering(
        title=data.title,
        description=data.description,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        timezone=data.timezone,
        online_url=data.online_url,
        place=data.place,
        capacity=data.capacity,
        waitlist=data.waitlist,
        going=0,
        created_at=now,
        updated_at=now,
    )
    session.add(gathering)
    session.flush()
    _templates(session, gathering, now)
    return gathering


def update_gathering(
    *, session: Session, gathering_id: int, changes: dict, now: datetime
) -> Gathering:
    """Change an event's fields; capacity may not drop below the seats already taken."""
    gathering = _locked(session, gathering_id)
    current = rules.GatheringInput(
        title=gathering.title,
        starts_at=gathering.starts_at,
        ends_at=gathering.ends_at,
        timezone=gathering.timezone,
        description=gathering.description,
        online_url=gathering.online_url,
        place=gathering.place,
        capacity=gathering.capacity,
        waitlist=gathering.waitlist,
    )
    data = rules.check(replace(current, **changes))
    if data.capacity is not None and data.capacity < gathering.going:
        raise InvalidInput(f"capacity: {gathering.going} guests already have a seat")
    for name in changes:
        setattr(gathering, name, getattr(data, name))
    gathering.updated_at = now
    _promote(session, gathering, now)
    return gathering


def get_gathering(*, session: Session, gathering_id: int) -> Gathering:
    """An event, or NotFound."""
    gathering = session.get(Gathering, gathering_id)
    if gathering is None:
        raise NotFound(f"gathering {gathering_id} does not exist")
    return gathering


def list_gatherings(*, session: Session) -> list[Gathering]:
    """Every event, the next first."""
    return list(session.scalars(select(Gathering).order_by(Gathering.starts_at.desc())))


def _locked(session: Session, gathering_id: int) -> Gathering:
    """An event locked for update: seat counts change only under this lock."""
    gathering = session.scalar(
        select(Gathering)
        .where(Gathering.id == gathering_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if gathering is None:
        raise NotFound(f"gathering {gathering_id} does not exist")
    return gathering


# Invitations -------------------------------------------------------------------------------


def invite_segment(*, session: Session, gathering_id: int, segment_id: int, now: datetime) -> int:
    """Invite every member of a segment not invited yet; returns how many were invited."""
    if session.get(segments.Segment, segment_id) is None:
        raise NotFound(f"segment {segment_id} does not exist")
    members = select(segments.SegmentMembership.customer_id).where(
        segments.SegmentMembership.segment_id == segment_id
    )
    return _invite(session, gathering_id, members, now)


def invite_customers(
    *, session: Session, gathering_id: int, customer_ids: Iterable[int], now: datetime
) -> int:
    """Invite the given customers not invited yet; returns how many were invited."""
    ids = sorted(set(customer_ids))
    found = select(customers.Customer.id).where(customers.Customer.id.in_(ids))
    return _invite(session, gathering_id, found, now)


def _invite(session: Session, gathering_id: int, customer_ids, now: datetime) -> int:
    """Insert invitations set-based, announce them and queue the invitation email."""
    gathering = _locked(session, gathering_id)
    if gathering.cancelled_at is not None or gathering.ends_at <= now:
        raise InvalidInput("the event is over or cancelled: nobody can be invited")
    before = session.scalar(select(func.coalesce(func.max(Invitation.id), 0))) or 0
    ids = customer_ids.subquery()
    already = select(Invitation.customer_id).where(Invitation.gathering_id == gathering.id)
    stamp = literal(now, Invitation.invited_at.type)
    rows = select(literal(gathering.id), ids.c[0], literal("invited"), stamp).where(
        ids.c[0].not_in(already)
    )
    session.execute(
        insert(Invitation).from_select(
            ["gathering_id", "customer_id", "status", "invited_at"], rows
        )
    )
    new = select(Invitation.customer_id, Invitation.gathering_id).where(
        Invitation.gathering_id == gathering.id, Invitation.id > before
    )
    count = append_select(session, INVITED, new, now=now)
    if count and gathering.invite_template_id is not None:
        guests = session.scalars(new.with_only_columns(Invitation.customer_id)).all()
        _queue(session, gathering, gathering.invite_template_id, guests, INVITE, now)
    return count


def _queue(session, gathering, template_id, customer_ids, occurrence: str, now) -> int:
    """Queue one message per guest for an occurrence (never twice: the outbox is unique on
    it too) and wake its lane; returns how many were queued now."""
    outbox = message_read.OutboxMessage
    sent = set(
        session.scalars(
            select(outbox.customer_id).where(
                outbox.source == SOURCE,
                outbox.source_id == gathering.id,
                outbox.occurrence == occurrence,
            )
        )
    )
    customer_ids = [cid for cid in customer_ids if cid not in sent]
    if not customer_ids:
        return 0
    template = messages.get_template(session=session, template_id=template_id)
    messages.queue_messages_many(
        session=session,
        rows=[(cid, occurrence) for cid in customer_ids],
        template_id=template_id,
        kind=template.kind,
        source=SOURCE,
        source_id=gathering.id,
        now=now,
    )
    messages.wake_lane(session=session, kind=template.kind, now=now)
    return len(customer_ids)


def invitation(*, session: Session, gathering_id: int, customer_id: int) -> Invitation:
    """A guest's invitation, or NotFound."""
    found = session.scalar(
        select(Invitation).where(
            Invitation.gathering_id == gathering_id, Invitation.customer_id == customer_id
        )
    )
    if found is None:
        raise NotFound(f"customer {customer_id} is not invited to gathering {gathering_id}")
    return found


def guests(*, session: Session, gathering_id: int, status: str | None = None) -> list[dict]:
    """The invitations of an event with each guest's email and name."""
    i, c = Invitation, customers.Customer
    query = (
        select(i.customer_id, c.email, c.first_name, c.last_name, i.status, i.answer)
        .add_columns(i.invited_at, i.answered_at, i.waitlisted_at, i.attended_at)
        .add_columns(i.attendance_source)
        .join(c, c.id == i.customer_id)
        .where(i.gathering_id == gathering_id)
        .order_by(i.id)
    )
    if status:
        query = query.where(i.status == status)
    return [dict(row._mapping) for row in session.execute(query)]


def invitations_of(*, session: Session, customer_id: int, limit: int = 20) -> list[dict]:
    """A customer's invitations, the latest event first."""
    i, g = Invitation, Gathering
    query = (
        select(i.gathering_id, g.title, g.starts_at, i.status, i.attended_at)
        .join(g, g.id == i.gathering_id)
        .where(i.customer_id == customer_id)
        .order_by(g.starts_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(query)]


def counts(*, session: Session, gathering_id: int) -> dict[str, int]:
    """How many invitations are in each status, and how many attended."""
    rows = session.execute(
        select(Invitation.status, func.count())
        .where(Invitation.gathering_id == gathering_id)
        .group_by(Invitation.status)
    ).all()
    out = {status: 0 for status in rules.STATUSES} | {s: n for s, n in rows}
    out["attended"] = (
        session.scalar(
            select(func.count()).where(
                Invitation.gathering_id == gathering_id, Invitation.attended_at.is_not(None)
            )
        )
        or 0
    )
    out["invited_total"] = sum(n for _, n in rows)
    return out


# RSVP --------------------------------------------------------------------------------------


def rsvp(
    *, session: Session, gathering_id: int, customer_id: int, answer: str, now: datetime
) -> Invitation:
    """Record a guest's answer under the event's lock: a seat, the waitlist, or a decline.

    A declined seat goes to the first guest on the waitlist in the same transaction.
    """
    gathering = _locked(session, gathering_id)
    if gathering.cancelled_at is not None:
        raise InvalidInput("the event was cancelled")
    if gathering.ends_at <= now:
        raise InvalidInput("the event is over")
    guest = invitation(session=session, gathering_id=gathering_id, customer_id=customer_id)
    outcome = rules.seat(
        answer,
        current=guest.status,
        going=gathering.going,
        capacity=gathering.capacity,
        waitlist=gathering.waitlist,
    )
    changed = (guest.status, guest.answer) != (outcome.status, answer)
    if outcome.status == "waitlisted" and guest.status != "waitlisted":
        guest.waitlisted_at = now
    elif outcome.status != "waitlisted":
        guest.waitlisted_at = None
    guest.status, guest.answer, guest.answered_at = outcome.status, answer, now
    gathering.going += outcome.seats_delta
    events = [GatheringRsvp(customer_id, gathering.id, answer, outcome.status)] if changed else []
    append(session, events, now=now)
    if outcome.frees_seat:
        _promote(session, gathering, now)
    return guest


def _promote(session: Session, gathering: Gathering, now: datetime) -> int:
    """Give free seats to the waitlist in order of arrival (caller holds the event's lock)."""
    if gathering.capacity is None:
        free = None
    else:
        free = gathering.capacity - gathering.going
        if free <= 0:
            return 0
    query = (
        select(Invitation)
        .where(Invitation.gathering_id == gathering.id, Invitation.status == "waitlisted")
        .order_by(Invitation.waitlisted_at, Invitation.id)
    )
    promoted = list(session.scalars(query.limit(free) if free is not None else query))
    for guest in promoted:
        guest.status, guest.waitlisted_at = "going", None
    gathering.going += len(promoted)
    append(
        session,
        [GatheringRsvp(g.customer_id, gathering.id, "yes", "going") for g in promoted],
        now=now,
    )
    return len(promoted)


def ics_of(*, gathering: Gathering, customer_id: int, now: datetime) -> bytes:
    """The .ics invite of an event for one guest."""
    return rules.ics(
        uid=f"gathering-{gathering.id}@patron",
        title=gathering.title,
        description=gathering.description,
        starts_at=gathering.starts_at,
        ends_at=gathering.ends_at,
        tz=gathering.timezone,
        location=gathering.place or gathering.online_url,
        url=gathering.online_url,
        organizer=None,
        stamp=now,
        status="CANCELLED" if gathering.cancelled_at else "CONFIRMED",
    )


# Reminders ---------------------------------------------------------------------------------


def send_reminders(*, session: Session, now: datetime) -> int:
    """Queue the due reminder of every coming event to its guests going or maybe (once each)."""
    horizon = max(before for _, before in rules.REMINDERS)
    coming = session.scalars(
        select(Gathering).where(
            Gathering.cancelled_at.is_(None),
            Gathering.starts_at > now,
            Gathering.starts_at <= now + horizon,
        )
    ).all()
    queued = 0
    for gathering in coming:
        due = rules.due_reminders(gathering.starts_at, now=now)
        if not due or gathering.reminder_template_id is None:
            continue
        # Only the latest due reminder: a late run sends "in an hour", never a stale "tomorrow".
        guests_ = session.scalars(
            select(Invitation.customer_id).where(
                Invitation.gathering_id == gathering.id,
                Invitation.status.in_(("going", "maybe")),
            )
        ).all()
        queued += _queue(session, gathering, gathering.reminder_template_id, guests_, due[-1], now)
    return queued


def reminders_job(*, session: Session, now: datetime, payload: dict) -> None:
    """The scheduled job that queues due reminders."""
    send_reminders(session=session, now=now)


# Attendance --------------------------------------------------------------------------------


def customers_by_email(session: Session, emails: Iterable[str]) -> dict[str, int]:
    """Customer ids by lower-cased email (the lowest id when an address is shared)."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not wanted:
        return {}
    c = customers.Customer
    rows = session.execute(
        select(func.lower(c.email), func.min(c.id))
        .where(func.lower(c.email).in_(wanted))
        .group_by(func.lower(c.email))
    )
    return {email: cid for email, cid in rows}


def customers_by_external_id(session: Session, external_ids: Iterable[str]) -> dict[str, int]:
    """Customer ids by external id."""
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    c = customers.Customer
    return dict(session.execute(select(c.external_id, c.id).where(c.external_id.in_(wanted))).all())


def record_attendance(
    *, session: Session, gathering_id: int, customer_ids: Iterable[int], source: str, now: datetime
) -> int:
    """Mark guests as there (walk-ins get an invitation row); returns how many are new."""
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}")
    gathering = _locked(session, gathering_id)
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    existing = select(customers.Customer.id).where(customers.Customer.id.in_(ids)).subquery()
    already = select(Invitation.customer_id).where(Invitation.gathering_id == gathering.id)
    walk_ins = select(
        literal(gathering.id),
        existing.c[0],
        literal("invited"),
        literal(now, Invitation.invited_at.type),
    ).where(existing.c[0].not_in(already))
    session.execute(
        insert(Invitation).from_select(
            ["gathering_id", "customer_id", "status", "invited_at"], walk_ins
        )
    )
    marked = session.scalars(
        update(Invitation)
        .where(
            Invitation.gathering_id == gathering.id,
            Invitation.customer_id.in_(ids),
            Invitation.attended_at.is_(None),
        )
        .values(attended_at=now, attendance_source=source)
        .returning(Invitation.customer_id)
    ).all()
    append(session, [GatheringAttended(cid, gathering.id, source) for cid in marked], now=now)
    return len(marked)


def import_attendance(
    *, session: Session, gathering_id: int, csv_text: str, source: str, now: datetime
) -> dict:
    """Record attendance from a CSV (`email` or `external_id` column); says who matched."""
    emails, external_ids = rules.attendance_rows(csv_text)
    by_email = customers_by_email(session, emails)
    by_id = customers_by_external_id(session, external_ids)
    ids = list(by_email.values()) + list(by_id.values())
    marked = record_attendance(
        session=session, gathering_id=gathering_id, customer_ids=ids, source=source, now=now
    )
    unmatched = sorted({e for e in emails if e not in by_email} | set(external_ids) - set(by_id))
    return {"rows": len(emails) + len(external_ids), "matched": len(set(ids))} | {
        "recorded": marked,
        "unmatched": unmatched,
    }


__all__ = ["ATTENDED", "INVITED"]
