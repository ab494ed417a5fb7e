"""Writing the ledger inside a caller's transaction: accounts, lots and entries move together.

Every change of an account's `balance` or `pending` is the sum of the entries written beside
it, so balance = SUM(entries.points) and pending = SUM(entries.pending) always. A member's
account row is locked (FOR UPDATE on PostgreSQL; SQLite has one writer) before their lots
are read, so concurrent spends of one balance are serialised and none overspends.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from psycopg.types.json import Jsonb
from sqlalchemy import BigInteger, any_, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from patron.db import UTCDateTime
from patron.events.service import append, append_select
from patron.loyalty import events as ev
from patron.loyalty import wallet
from patron.loyalty.rules import Programme
from patron.loyalty.tables import LoyaltyAccount, LoyaltyEntry, LoyaltyLot

ACCOUNTS = LoyaltyAccount.__table__
LOTS = LoyaltyLot.__table__
ENTRIES = LoyaltyEntry.__table__


def _postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def ensure_accounts(session: Session, customer_ids: Collection[int], *, now: datetime) -> None:
    """Create missing accounts for these customers (concurrent creators never clash)."""
    wanted = sorted(set(customer_ids))
    if len(wanted) > 1:
        wanted = sorted(
            set(wanted)
            - set(
                session.scalars(
                    select(ACCOUNTS.c.customer_id).where(
                        id_in(session, ACCOUNTS.c.customer_id, wanted)
                    )
                )
            )
        )
    if not wanted:
        return
    if _postgres(session) and len(wanted) > 1:
        new = select(
            func.unnest(bindparam(None, wanted, type_=ARRAY(BigInteger))).label("customer_id")
        ).subquery()
        rows = select(
            new.c.customer_id,
            literal(0),
            literal(0),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        columns = ["customer_id", "balance", "pending", "created_at", "updated_at"]
        session.execute(
            postgresql.insert(ACCOUNTS).from_select(columns, rows).on_conflict_do_nothing()
        )
        return
    dialect = postgresql if _postgres(session) else sqlite
    rows = [
        {"customer_id": c, "balance": 0, "pending": 0, "created_at": now, "updated_at": now}
        for c in wanted
    ]
    session.execute(dialect.insert(ACCOUNTS).on_conflict_do_nothing(), rows)


def id_in(session: Session, column, ids: Sequence[int]):
    """column IN ids: one array parameter on PostgreSQL (no statement of thousands of binds)."""
    if _postgres(session):
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    return column.in_(list(ids))


def bulk_insert(session: Session, table, rows: Sequence[dict]) -> None:
    """Insert many rows: COPY on PostgreSQL (SQLAlchemy's executemany renders statements of
    thousands of VALUES that the driver re-parses), executemany on SQLite."""
    if not rows:
        return
    if not _postgres(session):
        session.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    json_columns = {
        c.name
        for c in table.c
        if isinstance(c.type.dialect_impl(session.get_bind().dialect), postgresql.JSONB)
    }
    raw = session.connection().connection.driver_connection
    quoted = ", ".join(f'"{n}"' for n in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Jsonb(row[n]) if n in json_columns else row[n] for n in names])


def allocate_ids(session: Session, table, n: int) -> list[int]:
    """n new primary keys of a table: from its sequence on PostgreSQL; after its largest id on
    SQLite, whose one writer (BEGIN IMMEDIATE) holds the database until the commit."""
    if n == 0:
        return []
    if _postgres(session):
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(
            session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, n)))
        )
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(start, start + n))


def lock_account(session: Session, customer_id: int, *, now: datetime) -> LoyaltyAccount:
    """The member's account, created if missing, locked until the transaction ends."""
    query = select(LoyaltyAccount).where(LoyaltyAccount.customer_id == customer_id)
    query = query.with_for_update().execution_options(populate_existing=True)
    found = session.scalars(query).first()
    if found is None:
        ensure_accounts(session, [customer_id], now=now)
        found = session.scalars(query).one()
    return found


def lots_of(session: Session, customer_id: int) -> list[wallet.Lot]:
    """The member's lots that still hold pending or unspent points."""
    rows = session.execute(
        select(LOTS.c.id, LOTS.c.earned_at, LOTS.c.expires_at, LOTS.c.pending, LOTS.c.remaining)
        .where(LOTS.c.customer_id == customer_id, (LOTS.c.pending > 0) | (LOTS.c.remaining > 0))
        .order_by(LOTS.c.earned_at, LOTS.c.id)
    )
    return [wallet.Lot(*row) for row in rows]


def entry(session: Session, **values) -> int:
    """Append one entry; returns its id."""
    values.setdefault("detail", {})
    return session.execute(insert(ENTRIES).returning(ENTRIES.c.id), values).scalar_one()


def earn_lots(session: Session, programme: Programme, awards: Sequence[dict], *, now: datetime):
    """Lots and `earned` entries for many awards at once (set-based); returns entry ids.

    An award is a dict of customer_id, points, reason, key, earned_at, and optionally
    order_id, total_cents, rule_id, event_id, pending (False: spendable at once).
    """
    awards = [a for a in awards if a["points"] > 0]
    if not awards:
        return []
    ensure_accounts(session, {a["customer_id"] for a in awards}, now=now)
    window = programme.return_window_days
    lots = [_lot_row(programme, a, window) for a in awards]
    lot_ids = allocate_ids(session, LOTS, len(lots))
    entry_ids = allocate_ids(session, ENTRIES, len(lots))
    for lot, lot_id in zip(lots, lot_ids, strict=True):
        lot["id"] = lot_id
    entries = [
        _earn_entry(a, lot, entry_id, now)
        for a, lot, entry_id in zip(awards, lots, entry_ids, strict=True)
    ]
    bulk_insert(session, LOTS, lots)
    bulk_insert(session, ENTRIES, entries)
    _move_entries(session, entry_ids, now)
    earned = select(
        ENTRIES.c.customer_id,
        (ENTRIES.c.points + ENTRIES.c.pending).label("points"),
        ENTRIES.c.id.label("entry_id"),
        ENTRIES.c.reason.label("reason"),
    ).where(id_in(session, ENTRIES.c.id, entry_ids))
    append_select(session, ev.PointsEarned.type, earned, now=now)
    return entry_ids


def _lot_row(programme: Programme, award: dict, window: int) -> dict:
    """The lot of an award: pending for the return window, or spendable at once."""
    earned_at = award["earned_at"]
    held = award.get("pending", True) and window > 0
    points = award["points"]
    return {
        "customer_id": award["customer_id"],
        "points": points,
        "pending": points if held else 0,
        "remaining": 0 if held else points,
        "clawed": 0,
        "order_id": award.get("order_id"),
        "total_cents": award.get("total_cents") or 0,
        "earned_at": earned_at,
        "release_at": earned_at + wallet.timedelta(days=window) if held else None,
        "expires_at": wallet.expires_at(programme, earned_at),
        "warned": False,
    }


def _earn_entry(award: dict, lot: dict, entry_id: int, now: datetime) -> dict:
    """The `earned` entry of an award's lot."""
    return {
        "id": entry_id,
        "customer_id": award["customer_id"],
        "kind": "earned",
        "points": lot["remaining"],
        "pending": lot["pending"],
        "amount_cents": award.get("total_cents") or 0,
        "reason": award["reason"],
        "lot_id": lot["id"],
        "order_id": award.get("order_id"),
        "event_id": award.get("event_id"),
        "rule_id": award.get("rule_id"),
        "redemption_id": None,
        "key": award.get("key"),
        "detail": {},
        "created_at": now,
    }


def _move_entries(session: Session, entry_ids: Sequence[int], now: datetime) -> None:
    """Add written entries' sums to their accounts in one UPDATE ... FROM."""
    sums = (
        select(
            ENTRIES.c.customer_id.label("cid"),
            func.sum(ENTRIES.c.points).label("dp"),
            func.sum(ENTRIES.c.pending).label("dq"),
        )
        .where(id_in(session, ENTRIES.c.id, entry_ids))
        .group_by(ENTRIES.c.customer_id)
        .subquery()
    )
    session.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.customer_id == sums.c.cid)
        .values(
            balance=ACCOUNTS.c.balance + sums.c.dp,
            pending=ACCOUNTS.c.pending + sums.c.dq,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def _move(session: Session, entries: Sequence[dict], now: datetime) -> None:
    """Add entries' points and pending to their accounts, one UPDATE per account."""
    sums: dict[int, list[int]] = {}
    for e in entries:
        total = sums.setdefault(e["customer_id"], [0, 0])
        total[0] += e["points"]
        total[1] += e["pending"]
    rows = [{"cid": c, "dp": p, "dq": q, "now": now} for c, (p, q) in sums.items() if p or q]
    if rows:
        session.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.customer_id == bindparam("cid"))
            .values(
                balance=ACCOUNTS.c.balance + bindparam("dp"),
                pending=ACCOUNTS.c.pending + bindparam("dq"),
                updated_at=bindparam("now"),
            )
            .execution_options(synchronize_session=False),
            rows,
        )


def take(
    session: Session,
    customer_id: int,
    takes: Sequence[tuple[int, int]],
    *,
    kind: str,
    reason: str,
    now: datetime,
    **refs,
) -> int:
    """Take points from lots (one entry per lot) and from the balance; returns the total."""
    entries = []
    for lot_id, points in takes:
        session.execute(
            update(LOTS).where(LOTS.c.id == lot_id).values(remaining=LOTS.c.remaining - points)
        )
        entries.append(
            dict(
                customer_id=customer_id,
                kind=kind,
                points=-points,
                pending=0,
                amount_cents=0,
                reason=reason,
                lot_id=lot_id,
                created_at=now,
                detail={},
                key=None,
                order_id=refs.get("order_id"),
                event_id=None,
                rule_id=None,
                redemption_id=refs.get("redemption_id"),
            )
        )
    if entries:
        session.execute(insert(ENTRIES), entries)
        _move(session, entries, now)
    return sum(points for _, points in takes)


def _lot_entries(
    due, kind: str, reason: str, now: datetime, *, points: int, pending: int
) -> list[dict]:
    """Ledger rows for (lot id, customer id, points) rows: points and pending scaled by sign."""
    return [
        dict(
            customer_id=c,
            kind=kind,
            points=points * p,
            pending=pending * p,
            amount_cents=0,
            reason=reason,
            lot_id=i,
            created_at=now,
            detail={},
            key=None,
            order_id=None,
            event_id=None,
            rule_id=None,
            redemption_id=None,
        )
        for i, c, p in due
    ]


def release_due(session: Session, *, now: datetime, customer_id: int | None = None) -> int:
    """Release pending lots whose return window has passed (set-based); returns lots."""
    where = [LOTS.c.pending > 0, LOTS.c.release_at <= now]
    if customer_id is not None:
        where.append(LOTS.c.customer_id == customer_id)
    due = session.execute(select(LOTS.c.id, LOTS.c.customer_id, LOTS.c.pending).where(*where))
    entries = _lot_entries(due, "released", "return window passed", now, points=1, pending=-1)
    if not entries:
        return 0
    session.execute(insert(ENTRIES), entries)
    session.execute(
        update(LOTS)
        .where(*where)
        .values(remaining=LOTS.c.remaining + LOTS.c.pending, pending=0)
        .execution_options(synchronize_session=False)
    )
    _move(session, entries, now)
    return len(entries)


def expire_due(session: Session, *, now: datetime, customer_id: int | None = None) -> int:
    """Expire the unspent points of lots past their expiry; returns points expired."""
    where = [LOTS.c.remaining > 0, LOTS.c.expires_at <= now]
    if customer_id is not None:
        where.append(LOTS.c.customer_id == customer_id)
    due = session.execute(select(LOTS.c.id, LOTS.c.customer_id, LOTS.c.remaining).where(*where))
    entries = _lot_entries(due, "expired", "points expired", now, points=-1, pending=0)
    if not entries:
        return 0
    session.execute(insert(ENTRIES), entries)
    session.execute(
        update(LOTS).where(*where).values(remaining=0).execution_options(synchronize_session=False)
    )
    _move(session, entries, now)
    per_customer: dict[int, int] = {}
    for e in entries:
        per_customer[e["customer_id"]] = per_customer.get(e["customer_id"], 0) - e["points"]
    append(
        session,
        [ev.PointsExpired(customer_id=c, points=p) for c, p in per_customer.items()],
        now=now,
    )
    return sum(per_customer.values())


def ledger_sums(session: Session, customer_id: int) -> tuple[int, int]:
    """SUM(points), SUM(pending) of the member's entries."""
    row = session.execute(
        select(
            func.coalesce(func.sum(ENTRIES.c.points), 0),
            func.coalesce(func.sum(ENTRIES.c.pending), 0),
        ).where(ENTRIES.c.customer_id == customer_id)
    ).one()
    return int(row[0]), int(row[1])
