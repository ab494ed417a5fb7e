"""Set-based writing of refreshed scores and the stage changes they imply, one chunk at a time.

The refresh calls ``write_scores`` once per chunk of customers (a few thousand), each chunk in a
transaction of its own, so no writer waits longer than one chunk and readers never wait. Rows go
first into a temporary table (SQLite: ``executemany`` of one INSERT; PostgreSQL: ``COPY``); rows
of customers deleted since the aggregates were loaded are dropped; then two set-based statements
run inside the database: INSERT ... SELECT of a LifecycleChange for every customer whose new
stage differs from the stored one (from_stage NULL on a first assignment), then the scores by
INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE the stored row differs from the new one
(the same statement on SQLite and PostgreSQL), so unchanged rows are not rewritten.

Earlier, in one long transaction, the whole table was replaced with its indexes dropped and
rebuilt (faster on the first refresh: 6.4 s vs 12.7 s upsert on 1M customers, SQLite), but that
held SQLite's write lock for the whole refresh (27-31 s at 1M customers, right at the 30 s busy
timeout of readers-turned-writers and ingest) and hid scores from PostgreSQL readers of an empty
table until the commit. Timings of the chunked write: ``bench/refresh.py``, its effect on reads
and ingest: ``bench/concurrency.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    exists,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patron.analytics.events import LIFECYCLE_CHANGED
from patron.analytics.tables import CustomerScore, LifecycleChange
from patron.customers.read import Customer
from patron.db import UTCDateTime
from patron.events.service import append_select

SCORE_COLUMNS = (
    "customer_id",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rfm_segment",
    "lifecycle_stage",
    "p_alive",
    "churn_risk",
    "expected_purchases_90d",
    "expected_spend_cents",
    "predicted_clv_cents",
    "clv_percentile",
)
_WRITTEN = [*SCORE_COLUMNS, "computed_at"]

# Not part of Base.metadata: it is created and dropped by each refresh, never migrated.
_batch = Table(
    "analytics_score_batch",
    MetaData(),
    # INTEGER PRIMARY KEY on SQLite: the rowid itself, twice as fast to fill as a BIGINT key.
    Column("customer_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("recency_score", Integer),
    Column("frequency_score", Integer),
    Column("monetary_score", Integer),
    Column("rfm_segment", String(32)),
    Column("lifecycle_stage", String(16)),
    Column("p_alive", Float),
    Column("churn_risk", Float),
    Column("expected_purchases_90d", Float),
    Column("expected_spend_cents", BigInteger),
    Column("predicted_clv_cents", BigInteger),
    Column("clv_percentile", Float),
    prefixes=["TEMPORARY"],
)


def write_scores(session: Session, rows: Iterable[Sequence], *, now: datetime) -> int:
    """Store score rows (in SCORE_COLUMNS order); record stage changes; return their number.

    Meant for one chunk of customers per transaction: it takes only the locks of those rows.
    """
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_batch.name}")
    _batch.create(connection)
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        _copy_rows(raw, rows)
    else:
        placeholders = ", ".join("?" for _ in SCORE_COLUMNS)
        raw.executemany(f"INSERT INTO {_batch.name} VALUES ({placeholders})", rows)
    _drop_deleted_customers(connection)
    changes = _record_changes(session, now)
    _upsert(connection, now)
    connection.exec_driver_sql(f"DROP TABLE {_batch.name}")
    return changes


def _copy_rows(raw, rows: Iterable[Sequence]) -> None:
    """Stream rows into the batch table with PostgreSQL COPY."""
    columns = ", ".join(SCORE_COLUMNS)
    with raw.cursor() as cursor, cursor.copy(f"COPY {_batch.name} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _record_changes(session: Session, now: datetime) -> int:
    """Insert a LifecycleChange for each batch row whose stage differs from the stored one."""
    old = CustomerScore.lifecycle_stage
    new = _batch.c.lifecycle_stage
    changed = (
        select(_batch.c.customer_id, old, new, literal(now, UTCDateTime()))
        .select_from(
            _batch.outerjoin(CustomerScore, CustomerScore.customer_id == _batch.c.customer_id)
        )
        .where(new.is_not(None), old.is_(None) | (old != new))
    )
    statement = LifecycleChange.__table__.insert().from_select(
        ["customer_id", "from_stage", "to_stage", "changed_at"], changed
    )
    # Core on the Connection with preserve_rowcount: else psycopg reports -1 for INSERT..SELECT.
    result = session.connection().execute(statement.execution_options(preserve_rowcount=True))
    moves = changed.with_only_columns(
        _batch.c.customer_id, old.label("from_stage"), new.label("to_stage")
    )
    append_select(session, LIFECYCLE_CHANGED, moves, now=now)
    return max(result.rowcount or 0, 0)


def _drop_deleted_customers(connection) -> None:
    """Forget batch rows of customers deleted since the aggregates were loaded."""
    gone = ~exists().where(Customer.id == _batch.c.customer_id)
    connection.execute(_batch.delete().where(gone))


def _source(now: datetime):
    """SELECT of the batch rows with computed_at, in SCORE_COLUMNS order and key order."""
    columns = [_batch.c[name] for name in SCORE_COLUMNS]
    # WHERE true: SQLite cannot parse INSERT ... SELECT ... ON CONFLICT without a WHERE.
    return (
        select(*columns, literal(now, UTCDateTime())).where(true()).order_by(_batch.c.customer_id)
    )


def _upsert(connection, now: datetime) -> None:
    """Insert or update the batch's scores, skipping rows that did not change."""
    scores = CustomerScore.__table__
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(scores).from_select(_WRITTEN, _source(now))
    names = _WRITTEN[1:]
    changed = or_(*[scores.c[name].is_distinct_from(statement.excluded[name]) for name in names])
    updated = {name: statement.excluded[name] for name in names}
    connection.execute(
        statement.on_conflict_do_update(index_elements=["customer_id"], set_=updated, where=changed)
    )
