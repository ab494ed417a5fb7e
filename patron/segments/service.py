"""Use cases of segments: save, count, preview, members, memberships, built-ins (CSV: exports)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import BigInteger, Select, Text, any_, bindparam, cast, delete, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.errors import Conflict, InvalidInput, NotFound
from patron.segments import explain, memberships, rules
from patron.segments.builtins import BUILTINS
from patron.segments.compile import Compiled, compile_tree
from patron.segments.tables import Segment, SegmentChange, SegmentMembership

log = logging.getLogger("patron.segments")
Resolver = Callable[[int], rules.Node | None]


# Parsed trees by (segment id, stored JSON): parsing every saved tree on each order or event
# would cost more than evaluating them.
_PARSED: dict[tuple[int, str], rules.Node] = {}
_PARSED_LOCK = threading.Lock()


def saved_trees(session: Session) -> dict[int, rules.Node]:
    """The parsed rule tree of every saved segment, by id (one query, parse cached)."""
    # The stored JSON text is the cache key: decoding every tree on each order or event
    # would cost more than the query.
    query = select(Segment.id, cast(Segment.rules, Text))
    stored = {(sid, text) for sid, text in session.execute(query)}
    with _PARSED_LOCK:
        for key in set(_PARSED) - stored:
            del _PARSED[key]
        for key in stored - set(_PARSED):
            try:
                _PARSED[key] = rules.parse_tree(json.loads(key[1]))
            except InvalidInput as exc:  # never let one broken segment block writes
                log.warning("segment %s has invalid rules: %s", key[0], exc.message)
        return {sid: _PARSED[(sid, text)] for sid, text in stored if (sid, text) in _PARSED}


def _resolver(session: Session) -> Resolver:
    """Look up the parsed rule tree of a saved segment by id."""
    return saved_trees(session).get


def _stored_references(session: Session) -> dict[int, list[int]]:
    """Segment id -> ids of the segments its stored rules refer to."""
    return {
        sid: [ref for _p, ref in rules.referenced_segments(tree)]
        for sid, tree in saved_trees(session).items()
    }


def validate_rules(
    *, session: Session, rules_json: dict, segment_id: int | None = None
) -> rules.Node:
    """Parse rules and check that referenced segments exist and form no cycle."""
    tree = rules.parse_tree(rules_json)
    refs = rules.referenced_segments(tree)
    if not refs:
        return tree
    graph = _stored_references(session)
    for path, ref in refs:
        if ref not in graph:
            raise InvalidInput(
                f"{path}.segment_id: segment {ref} does not exist",
                details=[
                    {"path": f"{path}.segment_id", "message": f"segment {ref} does not exist"}
                ],
            )
    if segment_id is not None:
        graph[segment_id] = [ref for _p, ref in refs]
        cycle = rules.find_cycle(segment_id, lambda sid: graph.get(sid, []))
        if cycle:
            names = dict(session.execute(select(Segment.id, Segment.name)).all())
            loop = " → ".join(names.get(sid, f"#{sid}") for sid in cycle)
            path = next(p for p, ref in refs if ref == cycle[1])
            message = f"segment references form a cycle: {loop}"
            raise InvalidInput(
                f"{path}.segment_id: {message}",
                details=[{"path": f"{path}.segment_id", "message": message}],
            )
    return tree


def _compile(
    session: Session, tree: rules.Node, now: datetime, customer_ids: Iterable[int] | None = None
) -> Compiled:
    """Compile a tree with saved segments resolved from the database."""
    return compile_tree(tree, now=now, customer_ids=customer_ids, resolve=_resolver(session))


def get_segment(*, session: Session, segment_id: int) -> Segment:
    """Gets a segment by id (re-read: member counts change through set-based SQL)."""
    row = session.get(Segment, segment_id, populate_existing=True)
    if row is None:
        raise NotFound(f"segment {segment_id} does not exist")
    return row


def list_segments(*, session: Session) -> list[Segment]:
    """Lists every saved segment, by name."""
    query = select(Segment).order_by(Segment.name).execution_options(populate_existing=True)
    return list(session.scalars(query))


def _check_name(session: Session, name: str, segment_id: int | None) -> str:
    """A trimmed name of 1 to 255 characters used by no other segment."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 255:
        raise InvalidInput(
            "name: must be 1 to 255 characters",
            details=[{"path": "name", "message": "must be 1 to 255 characters"}],
        )
    clash = session.scalar(select(Segment.id).where(Segment.name == name))
    if clash is not None and clash != segment_id:
        raise Conflict(f"a segment named {name!r} exists already")
    return name


def create_segment(
    *,
    session: Session,
    name: str,
    rules_json: dict,
    now: datetime,
    description: str = "",
    builtin_key: str | None = None,
) -> Segment:
    """Creates a segment and materialises its members."""
    name = _check_name(session, name, None)
    tree = validate_rules(session=session, rules_json=rules_json)
    row = Segment(
        name=name,
        description=description or "",
        rules=rules.to_json(tree),
        builtin_key=builtin_key,
        member_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    refresh_segment(session=session, segment_id=row.id, now=now)
    return row


def update_segment(
    *,
    session: Session,
    segment_id: int,
    now: datetime,
    name: str | None = None,
    description: str | None = None,
    rules_json: dict | None = None,
) -> Segment:
    """Updates the given fields of a segment; new rules re-materialise its members."""
    row = get_segment(session=session, segment_id=segment_id)
    if name is not None:
        row.name = _check_name(session, name, segment_id)
    if description is not None:
        row.description = description
    if rules_json is not None:
        tree = validate_rules(session=session, rules_json=rules_json, segment_id=segment_id)
        row.rules = rules.to_json(tree)
    row.updated_at = now
    session.flush()
    if rules_json is not None:
        refresh_segment(session=session, segment_id=segment_id, now=now)
    return row


def delete_segment(*, session: Session, segment_id: int) -> None:
    """Deletes a segment unless it is built in or other segments refer to it."""
    row = get_segment(session=session, segment_id=segment_id)
    if row.builtin_key:
        raise Conflict(f"segment {row.name!r} is built in: edit it instead of deleting it")
    users = [
        sid
        for sid, refs in _stored_references(session).items()
        if segment_id in refs and sid != segment_id
    ]
    if users:
        names = ", ".join(session.scalars(select(Segment.name).where(Segment.id.in_(users))))
        raise Conflict(f"segment {row.name!r} is used by: {names}")
    # No foreign keys on memberships and changes (see tables.py): delete them here.
    session.execute(delete(SegmentMembership).where(SegmentMembership.segment_id == segment_id))
    session.execute(delete(SegmentChange).where(SegmentChange.segment_id == segment_id))
    session.delete(row)
    session.flush()


def count(*, session: Session, rules_json: dict, now: datetime) -> int:
    """Counts the customers matching rules right now."""
    tree = validate_rules(session=session, rules_json=rules_json)
    return session.scalar(_compile(session, tree, now).count()) or 0


def matching(
    *, session: Session, rules_json: dict, customer_ids: Iterable[int], now: datetime
) -> Select:
    """SELECT customer_id of those of the given customers who match rules now (set-based)."""
    tree = rules.parse_tree(rules_json)
    return _compile(session, tree, now, customer_ids).members()


def preview(*, session: Session, rules_json: dict, now: datetime, limit: int = 20) -> dict:
    """The live count and the first matching customers, each with the rules they meet."""
    tree = validate_rules(session=session, rules_json=rules_json)
    compiled = _compile(session, tree, now)
    names = dict(session.execute(select(Segment.id, Segment.name)).all())
    found = session.execute(compiled.explain(max(1, min(limit, 100)))).all()
    facts = explain.load_facts(session, [row.id for row in found])
    customers = [
        {
            "id": row.id,
            "external_id": row.external_id,
            "email": row.email,
            "name": " ".join(filter(None, [row.first_name, row.last_name])),
            "reasons": [
                explain.reason(node, names, facts.get(row.id))
                for i, (_p, node, _e) in enumerate(compiled.leaves)
                if row[5 + i]
            ],
        }
        for row in found
    ]
    total = session.scalar(compiled.count()) or 0
    return {"count": total, "customers": customers}


def members(*, session: Session, segment_id: int, limit: int = 100, after: int = 0) -> list[dict]:
    """Stored members with customer id above `after`, in id order (keyset pages)."""
    get_segment(session=session, segment_id=segment_id)
    m, c = SegmentMembership, Customer
    query = (
        select(c.id, c.external_id, c.email, c.first_name, c.last_name, m.entered_at)
        .join(m, m.customer_id == c.id)
        .where(m.segment_id == segment_id, c.id > after)
        .order_by(c.id)
        .limit(max(1, min(limit, 10000)))
    )
    return [dict(row._mapping) for row in session.execute(query)]


def changes(
    *,
    session: Session,
    segment_id: int,
    since: datetime | None = None,
    after_id: int | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Entries and exits of a segment with change id above after_id, in id order (keyset).

    Paged by id, not time: a full refresh stamps every change it records with one time.
    """
    get_segment(session=session, segment_id=segment_id)
    ch = SegmentChange
    query = select(ch.id, ch.customer_id, ch.change, ch.changed_at).where(
        ch.segment_id == segment_id
    )
    if since is not None:
        query = query.where(ch.changed_at >= since)
    if after_id is not None:
        query = query.where(ch.id > after_id)
    query = query.order_by(ch.id).limit(max(1, min(limit, 10001)))
    return [dict(row._mapping) for row in session.execute(query)]


def refresh_segment(
    *, session: Session, segment_id: int, now: datetime, customer_ids: Iterable[int] | None = None
) -> dict:
    """Recomputes a segment's stored members (all, or only the given customers)."""
    row = get_segment(session=session, segment_id=segment_id)
    compiled = _compile(session, rules.parse_tree(row.rules), now, customer_ids)
    moves = memberships.apply(session, segment_id=segment_id, compiled=compiled, now=now)
    session.refresh(row)
    return {
        "id": segment_id,
        "name": row.name,
        "entered": len(moves.entered),
        "exited": len(moves.exited),
        "members": row.member_count,
    }


def recompute_all(*, session: Session, now: datetime) -> list[dict]:
    """Recomputes every segment's members (what `patron refresh` runs), built-ins included."""
    ensure_builtin_segments(session=session, now=now)
    ids = session.scalars(select(Segment.id).order_by(Segment.id)).all()
    return [refresh_segment(session=session, segment_id=sid, now=now) for sid in ids]


def _lock_customers(session: Session):
    """SELECT ... FOR UPDATE of the customers among :ids that exist, in id order.

    One array on PostgreSQL (the statement is cached once). Holding the customers' rows makes
    two transactions that touched one customer re-evaluate its segments one after the other,
    each seeing the other's orders and events. NO KEY UPDATE: the writers already hold KEY
    SHARE locks from their rows' foreign keys, which a plain FOR UPDATE would deadlock on.
    SQLite has one writer and ignores the lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        ids = Customer.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
        locked = select(Customer.id).where(ids).order_by(Customer.id)
        return locked.with_for_update(key_share=True)
    return select(Customer.id).where(Customer.id.in_(bindparam("ids", expanding=True)))


def update_for_customers(*, session: Session, customer_ids: Iterable[int], now: datetime) -> int:
    """Re-evaluates, for these customers only, the segments an order or event can change."""
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    trees = saved_trees(session)
    if not trees:
        return 0
    existing = set(session.scalars(_lock_customers(session), {"ids": ids}))
    gone = [i for i in ids if i not in existing]  # deleted customers leave every segment
    updated = 0
    for sid, tree in sorted(trees.items()):
        scope = ids if rules.activity_driven(tree, trees.get) else gone
        if scope:
            compiled = compile_tree(tree, now=now, customer_ids=scope, resolve=trees.get)
            memberships.apply(session, segment_id=sid, compiled=compiled, now=now)
            updated += 1
    return updated


def ensure_builtin_segments(*, session: Session, now: datetime) -> list[str]:
    """Creates the built-in segments that do not exist yet; returns their names."""
    existing = set(
        session.scalars(select(Segment.builtin_key).where(Segment.builtin_key.isnot(None)))
    )
    taken = set(session.scalars(select(Segment.name)))
    created = []
    for key, name, description, tree in BUILTINS:
        if key in existing:
            continue
        label = name if name not in taken else f"{name} (built-in)"
        try:
            with session.begin_nested():
                create_segment(
                    session=session,
                    name=label,
                    description=description,
                    rules_json=tree,
                    now=now,
                    builtin_key=key,
                )
        except (IntegrityError, Conflict):
            continue  # another process created it at the same moment
        created.append(label)
    return created
