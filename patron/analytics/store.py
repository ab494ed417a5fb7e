"""Bulk, set-based writing of refreshed scores and the stage changes they imply.

Rows go first into a temporary table (SQLite: ``executemany`` of one INSERT; PostgreSQL:
``COPY``), then two set-based statements run inside the database: INSERT ... SELECT of a
LifecycleChange for every customer whose new stage differs from the stored one (from_stage NULL
on a first assignment), then the scores:

* PostgreSQL: INSERT ... SELECT ... ON CONFLICT DO UPDATE, which takes no lock that would block
  the dashboard's readers;
* SQLite (one writer at a time anyway, readers keep their snapshot in WAL mode): the secondary
  indexes of customer_scores are dropped, its rows replaced by DELETE + INSERT ... SELECT in key
  order, and the indexes rebuilt from the table model, all in the refresh's transaction.

Measured on 1M customers (SQLite): batch load 1.6 s; upsert 12.7 s vs replace with index rebuild
6.4 s; both beat upserting from Python with executemany (rows are built once either way).
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
    literal,
    select,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from patron.analytics.tables import CustomerScore, LifecycleChange
from patron.db import UTCDateTime

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
    """Store score rows (in SCORE_COLUMNS order); record stage changes; return their number."""
    connection = session.connection()
    dialect = connection.dialect.name
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_batch.name}")
    _batch.create(connection)
    raw = connection.connection.driver_connection
    if dialect == "postgresql":
        _copy_rows(raw, rows)
    else:
        placeholders = ", ".join("?" for _ in SCORE_COLUMNS)
        raw.executemany(f"INSERT INTO {_batch.name} VALUES ({placeholders})", rows)
    changes = _record_changes(session, now)
    if dialect == "postgresql":
        _upsert(session, now)
    else:
        _replace(session, now)
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
    return max(result.rowcount or 0, 0)


def _source(now: datetime):
    """SELECT of the batch rows with computed_at, in SCORE_COLUMNS order."""
    # WHERE true: SQLite needs it to parse INSERT ... SELECT ... ON CONFLICT unambiguously.
    return select(*[_batch.c[name] for name in SCORE_COLUMNS], literal(now, UTCDateTime())).where(
        true()
    )


def _upsert(session: Session, now: datetime) -> None:
    """Insert or update every customer's scores from the batch table (PostgreSQL)."""
    statement = postgresql.insert(CustomerScore).from_select(
        [*SCORE_COLUMNS, "computed_at"], _source(now)
    )
    updated = {name: statement.excluded[name] for name in (*SCORE_COLUMNS[1:], "computed_at")}
    session.execute(statement.on_conflict_do_update(index_elements=["customer_id"], set_=updated))


def _replace(session: Session, now: datetime) -> None:
    """Replace every score row by the batch's, rebuilding the secondary indexes (SQLite)."""
    connection = session.connection()
    indexes = sorted(CustomerScore.__table__.indexes, key=lambda index: index.name)
    for index in indexes:
        index.drop(connection)
    connection.execute(CustomerScore.__table__.delete())
    connection.execute(
        CustomerScore.__table__.insert().from_select(
            [*SCORE_COLUMNS, "computed_at"], _source(now).order_by(_batch.c.customer_id)
        )
    )
    for index in indexes:
        index.create(connection)
