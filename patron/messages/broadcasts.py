"""Broadcasts: one template to an audience of segments, now, at a time, or at local time.

States: draft → scheduled → sending ⇄ paused → sent, or cancelled from any of them before
sent. Starting is one conditional UPDATE (draft or scheduled → sending): of two presses of
send, or a press racing the scheduler, one wins and snapshots the audience; the outbox's
unique key would absorb a second snapshot anyway. Paused rows stay queued and are not claimed
(outbox.claim); cancel skips the queued ones with reason cancelled.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patron.errors import InvalidInput, NotFound
from patron.messages import audience, enqueue, rules, sender, service
from patron.messages.config import MessageConfig
from patron.messages.tables import Broadcast, OutboxMessage
from patron.segments.read import Segment

STATES = ("draft", "scheduled", "sending", "paused", "sent", "cancelled")
STARTABLE = ("draft", "scheduled")
CANCELLABLE = ("draft", "scheduled", "sending", "paused")
TICK_JOB = "messages.broadcasts.tick"


def _segments(session: Session, ids: list[int], what: str) -> list[int]:
    """The ids, checked to name existing segments."""
    ids = sorted({int(i) for i in ids})
    found = set(session.scalars(select(Segment.id).where(Segment.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput(f"{what}: no segment with id {', '.join(map(str, missing))}")
    return ids


def create(
    session: Session,
    *,
    name: str,
    template_id: int,
    segment_ids: list[int],
    exclude_segment_ids: list[int] = (),
    now: datetime,
    demo: bool = False,
) -> Broadcast:
    """A draft broadcast of a template to segments, minus the excluded ones."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a broadcast needs a name")
    if not segment_ids:
        raise InvalidInput("a broadcast needs at least one segment")
    service.get_template(session=session, template_id=template_id)
    included = _segments(session, list(segment_ids), "segments")
    excluded = _segments(session, list(exclude_segment_ids), "exclusions")
    if set(included) & set(excluded):
        raise InvalidInput("a segment cannot be both included and excluded")
    row = Broadcast(
        name=name[:255],
        template_id=template_id,
        segment_ids=included,
        exclude_segment_ids=excluded,
        state="draft",
        demo=demo,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, *, broadcast_id: int) -> Broadcast:
    """One broadcast, or NotFound."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise NotFound(f"no broadcast with id {broadcast_id}")
    return row


def list_broadcasts(session: Session, *, before_id: int | None = None, limit: int = 50):
    """Broadcasts, newest first (cursor: the last id seen)."""
    query = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Broadcast.id < before_id)
    return list(session.scalars(query))


def count(session: Session, *, broadcast: Broadcast, now: datetime, config: MessageConfig):
    """The live audience of a broadcast after consent, suppression and the cap."""
    template = service.get_template(session=session, template_id=broadcast.template_id)
    return audience.live_count(
        session,
        segment_ids=broadcast.segment_ids,
        exclude_ids=broadcast.exclude_segment_ids,
        channel=template.channel,
        now=now,
        cap=config.cap,
    )


def schedule(
    session: Session,
    *,
    broadcast_id: int,
    now: datetime,
    send_at: datetime | None = None,
    local_time: str | None = None,
    day: date | None = None,
) -> Broadcast:
    """Send at a time (UTC), or at a wall-clock time on a day in each customer's time zone."""
    row = get(session, broadcast_id=broadcast_id)
    if row.state not in STARTABLE:
        raise InvalidInput(f"a {row.state} broadcast cannot be scheduled")
    if local_time is not None:
        if day is None:
            raise InvalidInput("a local-time send needs a day")
        wall = rules.parse_local_time(local_time)
        row.local_time, row.send_at = f"{wall:%H:%M}", audience.local_start(day, wall)
    elif send_at is not None:
        if send_at.tzinfo is None:
            raise InvalidInput("send_at needs a time zone (use UTC)")
        if send_at <= now:
            raise InvalidInput("send_at must be in the future")
        row.local_time, row.send_at = None, send_at
    else:
        raise InvalidInput("give send_at, or local_time and day")
    row.state = "scheduled"
    return row


def start(session: Session, *, broadcast_id: int, now: datetime, senders: int = 1) -> bool:
    """Begin sending: snapshot the audience into the outbox; False if it already began."""
    row = get(session, broadcast_id=broadcast_id)
    won = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.state.in_(STARTABLE))
        .values(state="sending", started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    if not won:
        return False
    snapshot(session, broadcast=row, now=now)
    sender.wake(session, lane="bulk", now=now, senders=senders)
    started_event(row)
    return True


def started_event(row: Broadcast) -> dict:
    """What a `broadcast.started` event would carry."""
    # EVENT: broadcast.started (the lead wires events.append here; no customer_id: one per send)
    return {
        "broadcast_id": row.id,
        "template_id": row.template_id,
        "audience": row.audience_size,
        "segment_ids": row.segment_ids,
        "exclude_segment_ids": row.exclude_segment_ids,
        "local_time": row.local_time,
    }


def snapshot(session: Session, *, broadcast: Broadcast, now: datetime) -> int:
    """Queue one row per audience member (INSERT ... SELECT), timed as scheduled.

    A local-time send runs one INSERT ... SELECT per distinct time zone of the audience, each
    with the UTC instant of the wall time in that zone.
    """
    template = service.get_template(session=session, template_id=broadcast.template_id)
    members = audience.members(broadcast.segment_ids, broadcast.exclude_segment_ids)
    queue = dict(
        template_id=broadcast.template_id,
        source="broadcast",
        source_id=broadcast.id,
        now=now,
        kind=template.kind,
        channel=template.channel,
    )
    if broadcast.local_time is None:
        send_after = max(now, broadcast.send_at) if broadcast.send_at else now
        added = enqueue.enqueue_many(session, members, send_after=send_after, **queue)
    else:
        day = audience.local_day(broadcast.send_at)
        wall = rules.parse_local_time(broadcast.local_time)
        added = 0
        for name in audience.zones(session, members):
            at = rules.local_send_time(day, wall, name)
            added += enqueue.enqueue_many(
                session, audience.in_zone(members, name), send_after=at, **queue
            )
    broadcast.audience_size = added
    return added


def _move(session: Session, broadcast_id: int, sources: tuple[str, ...], target: str, **values):
    """Conditional state change; InvalidInput naming the state when it does not apply."""
    row = get(session, broadcast_id=broadcast_id)
    changed = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.state.in_(sources))
        .values(state=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    if not changed and row.state != target:
        raise InvalidInput(f"a {row.state} broadcast cannot become {target}")
    return row


def pause(session: Session, *, broadcast_id: int) -> Broadcast:
    """Stop claiming its rows; those being sent finish."""
    return _move(session, broadcast_id, ("sending",), "paused")


def resume(session: Session, *, broadcast_id: int, now: datetime, senders: int = 1) -> Broadcast:
    """Claim its rows again."""
    row = _move(session, broadcast_id, ("paused",), "sending")
    sender.wake(session, lane="bulk", now=now, senders=senders)
    return row


def cancel(session: Session, *, broadcast_id: int, now: datetime) -> Broadcast:
    """Stop for good: queued rows are skipped with reason cancelled."""
    row = _move(session, broadcast_id, CANCELLABLE, "cancelled", finished_at=now)
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.source == "broadcast",
            OutboxMessage.source_id == broadcast_id,
            OutboxMessage.state == "queued",
        )
        .values(state="skipped", reason="cancelled")
        .execution_options(synchronize_session=False)
    )
    return row


def start_due(session: Session, *, now: datetime, senders: int = 1) -> list[int]:
    """Start scheduled broadcasts whose time has come."""
    due = session.scalars(
        select(Broadcast.id).where(Broadcast.state == "scheduled", Broadcast.send_at <= now)
    ).all()
    return [b for b in due if start(session, broadcast_id=b, now=now, senders=senders)]


def finish_done(session: Session, *, now: datetime) -> int:
    """Mark sending broadcasts with no queued or sending rows left as sent."""
    pending = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.source == "broadcast",
            OutboxMessage.source_id == Broadcast.id,
            OutboxMessage.state.in_(("queued", "sending")),
        )
        .exists()
    )
    result = session.execute(
        update(Broadcast)
        .where(Broadcast.state == "sending", ~pending)
        .values(state="sent", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def tick_job(*, session: Session, now: datetime, payload: dict) -> str:
    """The `messages.broadcasts.tick` job: start due broadcasts, finish done ones."""
    started = start_due(session, now=now, senders=sender.current_config().senders)
    finished = finish_done(session, now=now)
    return f"{len(started)} started, {finished} finished"
