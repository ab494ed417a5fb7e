"""Set-based writes of a batch of events: one statement per batch instead of one per message.

The bulk path of customer data for the tracking hot path (`bulk` holds the one for imports and
the demo): customers found or created, profiles saved, anonymous ids linked, events inserted
and last event times moved, each for a whole batch at once. Statements are built once per
database dialect and reused: building them costs more than running them on small batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache

import orjson
from sqlalchemy import any_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patron.customers.events import CustomerCreated, CustomerMerged, CustomerUpdated, EventTracked
from patron.customers.tables import AnonymousId, Customer, CustomerStats, Event
from patron.db import UTCDateTime
from patron.events.service import append, append_select

_CHUNK = 500
PROFILE_COLUMNS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "birthday",
    "locale",
    "time_zone",
    "attributes",
)
_CUSTOMERS, _EVENTS, _LINKS = Customer.__table__, Event.__table__, AnonymousId.__table__
_STATS = CustomerStats.__table__


def _dialect(session: Session) -> str:
    """The name of the session's database dialect."""
    return session.get_bind().dialect.name


def _insert(dialect: str, table):
    """An INSERT that supports ON CONFLICT on this dialect."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _among(dialect: str, column):
    """The condition `column IN :ids` as one parameter, so the statement is cached once.

    PostgreSQL gets `= ANY(:ids)` with an array: a list of separate parameters there leads
    to generic plans that compare each row with every parameter.
    """
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam("ids", expanding=True))


def _chunks(values: list, size: int = _CHUNK) -> Iterable[list]:
    """Split values into lists of at most size."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@cache
def _statements(dialect: str) -> dict:
    """Every statement of this module for one dialect."""
    upsert_link = _insert(dialect, _LINKS)
    upsert_link = upsert_link.on_conflict_do_update(
        index_elements=["anonymous_id"],
        set_={
            "customer_id": upsert_link.excluded.customer_id,
            "linked_at": upsert_link.excluded.linked_at,
        },
    )
    owner = (
        select(_LINKS.c.customer_id)
        .where(_LINKS.c.anonymous_id == _EVENTS.c.anonymous_id)
        .scalar_subquery()
    )
    # coalesce() keeps SQLite from scanning the (customer_id, ...) index for the NULLs.
    unclaimed = func.coalesce(_EVENTS.c.customer_id, 0) == 0
    at = bindparam("at", type_=UTCDateTime())
    return {
        "existing": select(_EVENTS.c.message_id).where(_among(dialect, _EVENTS.c.message_id)),
        "customers": select(_CUSTOMERS.c.external_id, _CUSTOMERS.c.id).where(
            _among(dialect, _CUSTOMERS.c.external_id)
        ),
        "new_customers": _insert(dialect, _CUSTOMERS).on_conflict_do_nothing(
            index_elements=["external_id"]
        ),
        "new_stats": _insert(dialect, _STATS).on_conflict_do_nothing(
            index_elements=["customer_id"]
        ),
        "profiles": select(
            _CUSTOMERS.c.id, *(_CUSTOMERS.c[name] for name in PROFILE_COLUMNS)
        ).where(_among(dialect, _CUSTOMERS.c.id)),
        "save_profiles": update(_CUSTOMERS)
        .where(_CUSTOMERS.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in (*PROFILE_COLUMNS, "updated_at")}),
        "links": select(_LINKS.c.anonymous_id, _LINKS.c.customer_id).where(
            _among(dialect, _LINKS.c.anonymous_id)
        ),
        "upsert_links": upsert_link,
        "claim": update(_EVENTS)
        .where(_among(dialect, _EVENTS.c.anonymous_id), unclaimed)
        .values(customer_id=owner),
        "claimed": select(_EVENTS.c.customer_id, func.max(_EVENTS.c.occurred_at))
        .where(_among(dialect, _EVENTS.c.anonymous_id), _EVENTS.c.customer_id.is_not(None))
        .group_by(_EVENTS.c.customer_id),
        "events": _insert(dialect, _EVENTS).on_conflict_do_nothing(index_elements=["message_id"]),
        "touch": update(_STATS)
        .where(
            _STATS.c.customer_id == bindparam("cid"),
            or_(_STATS.c.last_event_at.is_(None), _STATS.c.last_event_at < at),
        )
        .values(last_event_at=at),
    }


# PostgreSQL takes a batch as one JSON document, unpacked by json_to_recordset in one
# statement that is parsed and planned once: executemany would bind and run a statement per
# row, and a parameter per column would make the driver adapt every value in Python.
_PG = {
    "events": text(
        "INSERT INTO events (message_id, type, name, customer_id, anonymous_id, properties,"
        " context, occurred_at, received_at)"
        " SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS r(message_id varchar,"
        " type varchar, name varchar, customer_id bigint, anonymous_id varchar,"
        " properties jsonb, context jsonb, occurred_at timestamptz, received_at timestamptz)"
        " ON CONFLICT (message_id) DO NOTHING"
    ),
    "touch": text(
        "UPDATE customer_stats AS s SET last_event_at = r.at"
        " FROM json_to_recordset(CAST(:rows AS json)) AS r(cid bigint, at timestamptz)"
        " WHERE s.customer_id = r.cid AND (s.last_event_at IS NULL OR s.last_event_at < r.at)"
    ),
    "links": text(
        "INSERT INTO anonymous_ids (anonymous_id, customer_id, linked_at)"
        " SELECT * FROM json_to_recordset(CAST(:rows AS json))"
        " AS r(anonymous_id varchar, customer_id bigint, linked_at timestamptz)"
        " ON CONFLICT (anonymous_id) DO UPDATE"
        " SET customer_id = excluded.customer_id, linked_at = excluded.linked_at"
    ),
    "profiles": text(
        "UPDATE customers AS c SET email = r.email, phone = r.phone,"
        " first_name = r.first_name, last_name = r.last_name, birthday = r.birthday,"
        " locale = r.locale, time_zone = r.time_zone, attributes = r.attributes,"
        " updated_at = r.updated_at"
        " FROM json_to_recordset(CAST(:rows AS json)) AS r(id bigint, email varchar,"
        " phone varchar, first_name varchar, last_name varchar, birthday date, locale varchar,"
        " time_zone varchar, attributes jsonb, updated_at timestamptz)"
        " WHERE c.id = r.id"
    ),
    "new_customers": text(
        "INSERT INTO customers (external_id, attributes, created_at, updated_at)"
        " SELECT e, CAST('{}' AS jsonb), :now, :now FROM unnest(CAST(:e AS varchar[])) AS u(e)"
        " ON CONFLICT (external_id) DO NOTHING RETURNING external_id, id"
    ),
    "new_stats": text(
        "INSERT INTO customer_stats"
        " (customer_id, order_count, purchase_days, total_spent_cents, first_day_cents)"
        " SELECT c, 0, 0, 0, 0 FROM unnest(CAST(:c AS bigint[])) AS u(c)"
        " ON CONFLICT (customer_id) DO NOTHING"
    ),
}


def plan_for_values(session: Session) -> None:
    """On PostgreSQL, plan this transaction's statements for their actual arguments.

    A prepared statement's generic plan is made once, often while the tables are still
    small (a sequential scan), and kept until the tables are analysed again; without
    autovacuum, `= ANY(:ids)` lookups then scan whole tables for every batch.
    """
    if _dialect(session) == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _json(rows: list[dict]) -> str:
    """JSON text of rows of JSON values, dates and datetimes."""
    try:
        return orjson.dumps(rows).decode()
    except TypeError:  # an integer beyond 64 bits, read back from a JSON column
        return json.dumps(rows, default=lambda value: value.isoformat())


def _sql(session: Session, name: str):
    """The named statement for the session's database."""
    return _statements(_dialect(session))[name]


def _lookup(session: Session, name: str, keys: Iterable) -> list:
    """Rows of a keyed SELECT for all the given keys, in chunks."""
    rows = []
    for chunk in _chunks(sorted(set(keys))):
        rows.extend(session.execute(_sql(session, name), {"ids": chunk}).all())
    return rows


def existing_message_ids(session: Session, message_ids: Iterable[str]) -> set[str]:
    """The message ids among these that are stored already."""
    return {row[0] for row in _lookup(session, "existing", message_ids)}


def customer_ids(session: Session, external_ids: Iterable[str], *, now: datetime) -> dict[str, int]:
    """Map external ids to customer ids, creating the customers that do not exist yet."""
    wanted = set(external_ids)
    if not wanted:
        return {}
    found = dict(_lookup(session, "customers", wanted))
    missing = sorted(wanted - found.keys())
    if missing:
        found.update(create_customers(session, missing, now=now))
    return found


def create_customers(session: Session, missing: list[str], *, now: datetime) -> dict[str, int]:
    """Create customers (and their empty aggregates) unless a concurrent writer just did.

    Returns the ids of all the given external ids, created here or by that writer.
    """
    if _dialect(session) != "postgresql":
        session.execute(
            _sql(session, "new_customers"),
            [
                {"external_id": eid, "attributes": {}, "created_at": now, "updated_at": now}
                for eid in missing
            ],
        )
        # One writer at a time on SQLite: every missing customer is created here.
        created = dict(_lookup(session, "customers", missing))
        session.execute(
            _sql(session, "new_stats"), [{"customer_id": cid} for cid in sorted(created.values())]
        )
        _announce_created(session, created, now)
        return created
    created = dict(session.execute(_PG["new_customers"], {"e": missing, "now": now}).all())
    _announce_created(session, created, now)
    found = dict(created)
    if len(found) < len(missing):
        found.update(_lookup(session, "customers", set(missing) - found.keys()))
    session.execute(_PG["new_stats"], {"c": sorted(found.values())})
    return found


def _announce_created(session: Session, created: dict[str, int], now: datetime) -> None:
    """A `customer.created` event for each customer this transaction created."""
    news = [CustomerCreated(cid, eid, None) for eid, cid in sorted(created.items())]
    append(session, news, now=now)


def profiles(session: Session, ids: Iterable[int]) -> dict[int, dict]:
    """The profile fields and attributes of the given customers, by id."""
    return {
        row[0]: dict(zip(PROFILE_COLUMNS, row[1:], strict=True))
        for row in _lookup(session, "profiles", ids)
    }


def save_profiles(session: Session, changed: dict[int, dict], *, now: datetime) -> None:
    """Write the given customers' profile fields and attributes in one statement."""
    updates = [CustomerUpdated(cid, "", sorted(changed[cid])) for cid in sorted(changed)]
    append(session, updates, now=now)
    if changed and _dialect(session) == "postgresql":
        rows = [{**changed[cid], "id": cid, "updated_at": now} for cid in sorted(changed)]
        session.execute(_PG["profiles"], {"rows": _json(rows)})
    elif changed:
        session.execute(
            _sql(session, "save_profiles"),
            [
                {
                    "b_id": cid,
                    "b_updated_at": now,
                    **{f"b_{name}": changed[cid][name] for name in PROFILE_COLUMNS},
                }
                for cid in sorted(changed)
            ],
        )


def linked_customers(session: Session, anonymous_ids: Iterable[str]) -> dict[str, int]:
    """Map anonymous ids to the customers they are linked to (unlinked ones are left out)."""
    return dict(_lookup(session, "links", anonymous_ids))


def link_anonymous_ids(
    session: Session, links: dict[str, int], *, now: datetime
) -> dict[int, datetime]:
    """Link anonymous ids to customers and give them the ids' unclaimed events.

    The set-based form of customers.service.link_anonymous_id for a whole batch; returns
    each customer's latest event time under those ids, for their last_event_at.
    """
    if not links:
        return {}
    ids = sorted(links)
    append(session, [CustomerMerged(links[aid], aid, None) for aid in ids], now=now)
    rows = [{"anonymous_id": aid, "customer_id": links[aid], "linked_at": now} for aid in ids]
    if _dialect(session) == "postgresql":
        session.execute(_PG["links"], {"rows": _json(rows)})
    else:
        session.execute(_sql(session, "upsert_links"), rows)
    for chunk in _chunks(ids):
        session.execute(_sql(session, "claim"), {"ids": chunk})
    return dict(_lookup(session, "claimed", ids))


def insert_events(session: Session, rows: list[dict]) -> None:
    """Insert event rows; a message id stored already (a concurrent replay) is skipped."""
    rows = sorted(rows, key=lambda row: row["message_id"])  # one lock order for all writers
    if _dialect(session) != "postgresql":
        for chunk in _chunks(rows):
            session.execute(_sql(session, "events"), chunk)
        return
    for chunk in _chunks(rows):
        session.execute(_PG["events"], {"rows": _json(chunk)})


def announce_events(session: Session, message_ids: list[str], *, received_at: datetime) -> int:
    """Append an `event.tracked` domain event for each event just stored for a customer."""
    if not message_ids:
        return 0
    stored = select(
        Event.customer_id,
        Event.type.label("event_type"),
        Event.name.label("name"),
        Event.message_id.label("message_id"),
        Event.occurred_at.label("occurred_at"),
    ).where(
        Event.message_id.in_(message_ids),
        Event.customer_id.isnot(None),
        Event.received_at == received_at,  # not a concurrent writer's copy of a replay
    )
    return append_select(session, EventTracked.type, stored, now=received_at)


def touch_last_events(session: Session, latest: dict[int, datetime]) -> None:
    """Move each customer's last event time forward to the given time if it is later."""
    if not latest:
        return
    cids = sorted(latest)
    if _dialect(session) == "postgresql":
        session.execute(_PG["touch"], {"rows": _json([{"cid": c, "at": latest[c]} for c in cids])})
    else:
        session.execute(_sql(session, "touch"), [{"cid": cid, "at": latest[cid]} for cid in cids])
