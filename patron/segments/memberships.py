"""Set-based membership maintenance: stage the members, then diff, record changes, apply.

Every step is one INSERT ... SELECT or DELETE over the whole set, so materialising a segment
of hundreds of thousands of customers never loops over them in Python.
"""

from __future__ import annotations

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
from sqlalchemy.orm import Session

from patron.db import UTCDateTime
from patron.segments.compile import Compiled
from patron.segments.tables import Segment, SegmentChange, SegmentMembership

FEW = 1000  # restricted updates up to this many customers diff in memory (small sets only)
MEMBERS = SegmentMembership.__table__
CHANGES = SegmentChange.__table__
STAGE = table("segment_stage", column("customer_id", BigInteger))
_STAGE_DDL = {
    # A temporary table keeps the staged ids private to the transaction and off the WAL.
    "postgresql": "CREATE TEMPORARY TABLE IF NOT EXISTS segment_stage "
    "(customer_id BIGINT PRIMARY KEY) ON COMMIT DROP",
    "sqlite": "CREATE TEMP TABLE IF NOT EXISTS segment_stage (customer_id INTEGER PRIMARY KEY)",
}


def _stage(session: Session, compiled: Compiled):
    """Write the matching customer ids into the temporary stage table and return it."""
    dialect = session.get_bind().dialect.name
    session.execute(text(_STAGE_DDL["postgresql" if dialect == "postgresql" else "sqlite"]))
    session.execute(delete(STAGE))
    session.execute(insert(STAGE).from_select(["customer_id"], compiled.members()))
    if dialect == "postgresql":
        session.execute(text("ANALYZE segment_stage"))
    return STAGE


def _inserted(session: Session, target, columns: list[str], query) -> int:
    """Run INSERT ... SELECT and return how many rows it wrote."""
    statement = insert(target).from_select(columns, query)
    return session.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def apply_few(
    session: Session, *, segment_id: int, compiled: Compiled, now: datetime
) -> tuple[int, int]:
    """Like apply, for a query restricted to a few customers (those an order or event touched).

    Two small reads when nothing changes, which is the usual case on the write path.
    """
    matching = set(session.scalars(compiled.members()))
    current = set(
        session.scalars(
            select(MEMBERS.c.customer_id).where(
                MEMBERS.c.segment_id == segment_id, *compiled.ctx.restrict(MEMBERS.c.customer_id)
            )
        )
    )
    entered, exited = sorted(matching - current), sorted(current - matching)
    changes = [
        {"segment_id": segment_id, "customer_id": cid, "change": change, "changed_at": now}
        for change, ids in (("exited", exited), ("entered", entered))
        for cid in ids
    ]
    if changes:
        session.execute(insert(CHANGES), changes)
    if exited:
        session.execute(
            delete(MEMBERS).where(
                MEMBERS.c.segment_id == segment_id, MEMBERS.c.customer_id.in_(exited)
            )
        )
    if entered:
        session.execute(
            insert(MEMBERS),
            [{"segment_id": segment_id, "customer_id": cid, "entered_at": now} for cid in entered],
        )
    _update_count(session, segment_id, True, len(entered) - len(exited), now)
    return len(entered), len(exited)


def apply(
    session: Session, *, segment_id: int, compiled: Compiled, now: datetime
) -> tuple[int, int]:
    """Make the stored members of a segment equal the compiled query; returns (in, out).

    Restricted queries (compiled for some customers) touch only those customers' rows.
    """
    restricted = compiled.ctx.customer_ids is not None
    if restricted and len(compiled.ctx.customer_ids) <= FEW:
        return apply_few(session, segment_id=segment_id, compiled=compiled, now=now)
    source = compiled.members().subquery("src") if restricted else _stage(session, compiled)
    sid, when = literal(segment_id, Integer), literal(now, UTCDateTime)
    scope = [MEMBERS.c.segment_id == segment_id, *compiled.ctx.restrict(MEMBERS.c.customer_id)]
    stays = exists().where(source.c.customer_id == MEMBERS.c.customer_id)
    leavers = select(sid, MEMBERS.c.customer_id, literal("exited", String), when).where(
        *scope, ~stays
    )
    exited = _inserted(
        session, CHANGES, ["segment_id", "customer_id", "change", "changed_at"], leavers
    )
    if exited:
        session.execute(delete(MEMBERS).where(*scope, ~stays))
    known = exists().where(
        MEMBERS.c.segment_id == segment_id, MEMBERS.c.customer_id == source.c.customer_id
    )
    joiners = select(sid, source.c.customer_id, literal("entered", String), when).where(~known)
    entered = _inserted(
        session, CHANGES, ["segment_id", "customer_id", "change", "changed_at"], joiners
    )
    if entered:
        session.execute(
            insert(MEMBERS).from_select(
                ["segment_id", "customer_id", "entered_at"],
                select(sid, source.c.customer_id, when).where(~known),
            )
        )
    _update_count(session, segment_id, restricted, entered - exited, now)
    return entered, exited


def _update_count(
    session: Session, segment_id: int, restricted: bool, delta: int, now: datetime
) -> None:
    """Keep segments.member_count current (recounted after a full refresh)."""
    seg = Segment.__table__
    if restricted:
        if delta:
            session.execute(
                update(seg)
                .where(seg.c.id == segment_id)
                .values(member_count=seg.c.member_count + delta)
            )
        return
    count = (
        select(func.count())
        .select_from(MEMBERS)
        .where(MEMBERS.c.segment_id == segment_id)
        .scalar_subquery()
    )
    session.execute(
        update(seg).where(seg.c.id == segment_id).values(member_count=count, refreshed_at=now)
    )
