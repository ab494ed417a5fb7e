"""Benchmark of broadcast fan-out: snapshot 1M recipients into the outbox on PostgreSQL.

Data: N customers (default 1,000,000) with granted email consent, spread over five time zones,
and one segment holding all of them, generated with set-based SQL into schema
``bench_fanout_<n>`` of PATRON_BENCH_DATABASE_URL or PATRON_TEST_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), reused by later runs.

Timed, each into an empty outbox: the live count (members, consent, suppression, cap); the
snapshot when sending starts (`broadcasts.start`: one INSERT ... SELECT of the segment's
members, then waking the senders), committed; the same for a send at 09:00 local time (one
INSERT ... SELECT per distinct time zone, each with its zone's instant); pressing send again
(nothing queued); and cancelling (one UPDATE skipping every queued row). Target: fan-out under 60 s.

    .venv/bin/python bench/fanout.py [--customers 1000000] [--fanout-only]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, date, datetime

from sqlalchemy import text

from patron.db import make_engine, make_sessionmaker, transaction
from patron.messages import broadcasts, rules
from patron.messages.config import MessageConfig
from patron.migrate import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ZONES = ("America/New_York", "Europe/Warsaw", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC")
TARGET_SECONDS = 60.0
RULES = '{"type": "profile", "field": "email", "op": "contains", "value": "@"}'


def _fill(engine, n: int) -> None:
    """Customers with consent and zones, a template, one segment of all of them."""
    zones = "(ARRAY[" + ", ".join(f"'{z}'" for z in ZONES) + "])"
    statements = [
        "INSERT INTO customers (id, external_id, email, first_name, time_zone, attributes,"
        " created_at, updated_at) SELECT i, 'c' || i, 'user' || i || '@example.com',"
        f" 'First' || (i %% 1000), {zones}[1 + i %% 5], '{{}}'::jsonb, now(), now()"
        f" FROM generate_series(1, {n}) AS i",
        "INSERT INTO consents (customer_id, channel, status, updated_at, source)"
        f" SELECT i, 'email', 'granted', now(), 'bench' FROM generate_series(1, {n}) AS i",
        "INSERT INTO segments (id, name, description, rules, member_count, created_at,"
        f" updated_at) VALUES (1, 'everyone', '', '{RULES}', {n}, now(), now())",
        "INSERT INTO segment_memberships (segment_id, customer_id, entered_at)"
        f" SELECT 1, i, now() FROM generate_series(1, {n}) AS i",
        "INSERT INTO message_templates (id, name, channel, kind, created_at, updated_at)"
        " VALUES (1, 'news', 'email', 'marketing', now(), now())",
        "INSERT INTO message_template_variants (template_id, locale, format, subject,"
        " preheader, body) VALUES (1, '', 'html', 'Hi {{ customer.first_name }}', '',"
        " '<p>Hello {{ customer.first_name }}</p>')",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def pg_engine(n: int):
    """The PostgreSQL schema with the data, generated on first use."""
    url = (
        os.environ.get("PATRON_BENCH_DATABASE_URL")
        or os.environ.get("PATRON_TEST_DATABASE_URL")
        or PG_DEFAULT
    )
    schema = f"bench_fanout_{n}"
    with make_engine(url).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    with engine.connect() as conn:
        filled = conn.scalar(text("SELECT count(*) FROM segment_memberships")) == n
    if not filled:
        print(f"generating schema {schema} ({n:,} customers) …", flush=True)
        _fill(engine, n)
    return engine


def _empty_outbox(engine) -> None:
    """Start each measurement from an empty outbox and no sender jobs."""
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE outbox, broadcasts")
        conn.exec_driver_sql("DELETE FROM jobs WHERE kind LIKE 'messages.%%'")


def _timed(engine, action) -> tuple[float, object]:
    """Seconds of one committed transaction running the action, and its result."""
    sessions = make_sessionmaker(engine)
    started = time.perf_counter()
    with transaction(sessions) as session:
        result = action(session)
    return time.perf_counter() - started, result


def _draft(engine, *, local: bool) -> int:
    """A draft broadcast to the segment (optionally at 09:00 local time)."""

    def make(session):
        row = broadcasts.create(session, name="bench", template_id=1, segment_ids=[1], now=NOW)
        if local:
            broadcasts.schedule(
                session, broadcast_id=row.id, now=NOW, local_time="09:00", day=date(2026, 12, 3)
            )
        return row.id

    return _timed(engine, make)[1]


def measure(engine, n: int, fanout_only: bool) -> list[tuple[str, float, str]]:
    """Rows of (step, seconds, note)."""
    rows = []
    config = MessageConfig(secret_key="bench", cap=rules.FrequencyCap(limit=3, days=7))
    _empty_outbox(engine)
    bid = _draft(engine, local=False)
    if not fanout_only:
        seconds, counts = _timed(
            engine,
            lambda s: broadcasts.count(
                s, broadcast=broadcasts.get(s, broadcast_id=bid), now=NOW, config=config
            ),
        )
        rows.append(
            ("live count (one pass, 4 counts)", seconds, f"{counts['within_cap']:,} reachable")
        )
    seconds, _ = _timed(engine, lambda s: broadcasts.start(s, broadcast_id=bid, now=NOW))
    queued = _timed(engine, lambda s: broadcasts.get(s, broadcast_id=bid).audience_size)[1]
    rows.append(("fan-out: send now (INSERT ... SELECT)", seconds, f"{queued:,} queued"))
    if fanout_only:
        return rows
    seconds, again = _timed(engine, lambda s: broadcasts.start(s, broadcast_id=bid, now=NOW))
    rows.append(("send pressed again", seconds, f"started again: {again}"))
    seconds, _ = _timed(engine, lambda s: broadcasts.cancel(s, broadcast_id=bid, now=NOW))
    rows.append(("cancel (skip every queued row)", seconds, ""))
    _empty_outbox(engine)
    bid = _draft(engine, local=True)
    seconds, _ = _timed(engine, lambda s: broadcasts.start(s, broadcast_id=bid, now=NOW))
    rows.append(("fan-out: 09:00 local time", seconds, f"{len(ZONES)} zones, 1 INSERT each"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--fanout-only", action="store_true", help="time only the snapshot")
    args = parser.parse_args()
    engine = pg_engine(args.customers)
    rows = measure(engine, args.customers, args.fanout_only)
    _empty_outbox(engine)
    print(f"\nBroadcast fan-out on PostgreSQL, {args.customers:,} recipients")
    print(f"{'step':<40} {'seconds':>9} {'target':>8}  note")
    for step, seconds, note in rows:
        target = f"< {TARGET_SECONDS:.0f}" if step.startswith("fan-out") else ""
        verdict = " ok" if target and seconds < TARGET_SECONDS else (" SLOW" if target else "")
        print(f"{step:<40} {seconds:>9.2f} {target:>8}{verdict}  {note}")


if __name__ == "__main__":
    main()
