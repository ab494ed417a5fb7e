"""Set-based membership maintenance: stage the members, then diff, apply and record changes.

Every step is one INSERT ... SELECT or DELETE over the whole set, so materialising a segment
of hundreds of thousands of customers never loops over them in Python.

Race freedom. Whoever writes a segment's memberships first locks its row (`FOR UPDATE` on
PostgreSQL; SQLite has one writer at a time), and re-reads the current members after the lock,
so two transactions never diff against the same stale members. Entries and exits, and the
member count, are taken from what the statements really inserted or deleted (RETURNING, ON
CONFLICT DO NOTHING), never from what a diff expected: each real entry and exit is recorded
exactly once, and `member_count` equals the member rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from patron.db import UTCDateTime
from patron.events.service import append
from patron.segments.compile import Compiled
from patron.segments.events import SegmentEntered, SegmentExited
from patron.segments.tables import Segment, SegmentChange, SegmentMembership

FEW = 1000  # restricted updates up to this many customers diff in memory (small sets only)
MEMBERS = SegmentMembership.__table__
CHANGES = SegmentChange.__table__
SEGMENTS = Segment.__table__
CHANGE_COLUMNS = ["segment_id", "customer_id", "change", "changed_at"]
STAGE = table("segment_stage", column("customer_id", BigInteger))
_STAGE_DDL = {
    # A temporary table keeps the staged ids private to the transaction and off the WAL.
    "postgresql": "CREATE TEMPORARY TABLE IF NOT EXISTS segment_stage "
    "(customer_id BIGINT PRIMARY KEY) ON COMMIT DROP",
    "sqlite": "CREATE TEMP TABLE IF NOT EXISTS segment_stage (customer_id INTEGER PRIMARY KEY)",
}


@dataclass(frozen=True)
class Moves:
    """The customers a membership update really moved into and out of a segment."""

    entered: list[int]
    exited: list[int]


NO_MOVES = Moves([], [])


def _memberships_changed(
    session: Session, segment_id: int, entered_ids: list[int], exited_ids: list[int], now: datetime
) -> None:
    """Announce the customers who entered and left a segment, in this transaction."""
    if not entered_ids and not exited_ids:
        return
    name = session.scalar(select(Segment.name).where(Segment.id == segment_id)) or ""
    moves = [SegmentExited(cid, segment_id, name) for cid in exited_ids]
    moves += [SegmentEntered(cid, segment_id, name) for cid in entered_ids]
    append(session, moves, now=now)


def _postgresql(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def lock_segment(session: Session, segment_id: int) -> None:
    """Hold the segment's row until commit: one membership writer per segment at a time."""
    if _postgresql(session):  # SQLite: BEGIN IMMEDIATE already made this the only writer
        session.execute(select(SEGMENTS.c.id).where(SEGMENTS.c.id == segment_id).with_for_update())


def _stage(session: Session, compiled: Compiled):
    """Write the matching customer ids into the temporary stage table and return it."""
    postgresql = _postgresql(session)
    session.execute(text(_STAGE_DDL["postgresql" if postgresql else "sqlite"]))
    session.execute(delete(STAGE))
    session.execute(insert(STAGE).from_select(["customer_id"], compiled.members()))
    if postgresql:
        session.execute(text("ANALYZE segment_stage"))
    return STAGE


def _current(session: Session, segment_id: int, compiled: Compiled) -> set[int]:
    """The stored members among the customers the query is restricted to."""
    query = select(MEMBERS.c.customer_id).where(
        MEMBERS.c.segment_id == segment_id, *compiled.ctx.restrict(MEMBERS.c.customer_id)
    )
    return set(session.scalars(query))


def _record(session: Session, segment_id: int, change: str, ids: list[int], now: datetime) -> None:
    """Insert one change row per customer id."""
    if ids:
        rows = [
            {"segment_id": segment_id, "customer_id": cid, "change": change, "changed_at": now}
            for cid in ids
        ]
        session.execute(insert(CHANGES), rows)


def _upsert(session: Session):
    """The dialect's INSERT that supports ON CONFLICT DO NOTHING."""
    return (pg_insert if _postgresql(session) else sqlite_insert)(MEMBERS)


def apply_few(session: Session, *, segment_id: int, compiled: Compiled, now: datetime) -> Moves:
    """Like apply, for a query restricted to a few customers (those an order or event touched).

    Two small reads when nothing changes, which is the usual case on the write path; only a
    real change takes the segment's lock, and the members are read again under it.
    """
    matching = set(session.scalars(compiled.members()))
    if matching == _current(session, segment_id, compiled):
        return NO_MOVES
    lock_segment(session, segment_id)
    current = _current(session, segment_id, compiled)
    leaving, joining = sorted(current - matching), sorted(matching - current)
    exited: list[int] = []
    if leaving:
        gone = delete(MEMBERS).where(
            MEMBERS.c.segment_id == segment_id, MEMBERS.c.customer_id.in_(leaving)
        )
        exited = sorted(session.scalars(gone.returning(MEMBERS.c.customer_id)))
    entered: list[int] = []
    if joining:
        rows = [
            {"segment_id": segment_id, "customer_id": cid, "entered_at": now} for cid in joining
        ]
        added = _upsert(session).values(rows).on_conflict_do_nothing()
        entered = sorted(session.scalars(added.returning(MEMBERS.c.customer_id)))
    _record(session, segment_id, "exited", exited, now)
    _record(session, segment_id, "entered", entered, now)
    _add_to_count(session, segment_id, len(entered) - len(exited))
    moves = Moves(entered, exited)
    _memberships_changed(session, segment_id, moves.entered, moves.exited, now)
    return moves


def apply(session: Session, *, segment_id: int, compiled: Compiled, now: datetime) -> Moves:
    """Make the stored members of a segment equal the compiled query; returns who moved.

    Restricted queries (compiled for some customers) touch only those customers' rows.
    """
    restricted = compiled.ctx.customer_ids is not None
    if restricted and len(compiled.ctx.customer_ids) <= FEW:
        return apply_few(session, segment_id=segment_id, compiled=compiled, now=now)
    lock_segment(session, segment_id)
    source = compiled.members().subquery("src") if restricted else _stage(session, compiled)
    scope = [MEMBERS.c.segment_id == segment_id, *compiled.ctx.restrict(MEMBERS.c.customer_id)]
    leaving = [*scope, ~exists().where(source.c.customer_id == MEMBERS.c.customer_id)]
    known = exists().where(
        MEMBERS.c.segment_id == segment_id, MEMBERS.c.customer_id == source.c.customer_id
    )
    joining = select(literal(segment_id, Integer), source.c.customer_id, literal(now, UTCDateTime))
    joining = joining.where(~known)
    if _postgresql(session):
        moves = _move_postgresql(session, segment_id, leaving, joining, now)
    else:
        moves = _move_sqlite(session, segment_id, leaving, joining, now)
    if restricted:
        _add_to_count(session, segment_id, len(moves.entered) - len(moves.exited))
    else:
        _recount(session, segment_id, now)
    _memberships_changed(session, segment_id, moves.entered, moves.exited, now)
    return moves


def _change_rows(segment_id: int, change: str, ids, now: datetime):
    """SELECT of change rows for the customer ids column `ids`."""
    return select(
        literal(segment_id, Integer), ids, literal(change, String), literal(now, UTCDateTime)
    )


def _move_postgresql(session: Session, segment_id: int, leaving, joining, now) -> Moves:
    """Delete leavers and insert joiners, each in one statement recording what it really did."""
    gone = delete(MEMBERS).where(*leaving).returning(MEMBERS.c.customer_id).cte("gone")
    exits = insert(CHANGES).from_select(
        CHANGE_COLUMNS, _change_rows(segment_id, "exited", gone.c.customer_id, now)
    )
    exited = sorted(session.scalars(exits.returning(CHANGES.c.customer_id)))
    added = (
        pg_insert(MEMBERS)
        .from_select(["segment_id", "customer_id", "entered_at"], joining)
        .on_conflict_do_nothing()
        .returning(MEMBERS.c.customer_id)
        .cte("added")
    )
    entries = insert(CHANGES).from_select(
        CHANGE_COLUMNS, _change_rows(segment_id, "entered", added.c.customer_id, now)
    )
    entered = sorted(session.scalars(entries.returning(CHANGES.c.customer_id)))
    return Moves(entered, exited)


def _move_sqlite(session: Session, segment_id: int, leaving, joining, now) -> Moves:
    """Record then apply the moves: SQLite's single writer keeps the two statements in step."""
    leavers = _change_rows(segment_id, "exited", MEMBERS.c.customer_id, now).where(*leaving)
    exits = insert(CHANGES).from_select(CHANGE_COLUMNS, leavers)
    exited = sorted(session.scalars(exits.returning(CHANGES.c.customer_id)))
    if exited:
        session.execute(delete(MEMBERS).where(*leaving))
    joiners = joining.subquery("joiners")
    entries = insert(CHANGES).from_select(
        CHANGE_COLUMNS,
        _change_rows(segment_id, "entered", joiners.c.customer_id, now),
    )
    entered = sorted(session.scalars(entries.returning(CHANGES.c.customer_id)))
    if entered:
        session.execute(
            insert(MEMBERS).from_select(["segment_id", "customer_id", "entered_at"], joining)
        )
    return Moves(entered, exited)


def _add_to_count(session: Session, segment_id: int, delta: int) -> None:
    """Move segments.member_count by what was really inserted minus deleted."""
    if delta:
        session.execute(
            update(SEGMENTS)
            .where(SEGMENTS.c.id == segment_id)
            .values(member_count=SEGMENTS.c.member_count + delta)
        )


def _recount(session: Session, segment_id: int, now: datetime) -> None:
    """Set member_count from the member rows after a full refresh (under the segment's lock)."""
    count = (
        select(func.count())
        .select_from(MEMBERS)
        .where(MEMBERS.c.segment_id == segment_id)
        .scalar_subquery()
    )
    session.execute(
        update(SEGMENTS)
        .where(SEGMENTS.c.id == segment_id)
        .values(member_count=count, refreshed_at=now)
    )
