"""Benchmark of segments: count and materialise five realistic segments at a million customers.

Data: 1,000,000 customers, 10,000,000 orders (one line each), 5,000,000 events, email consent,
aggregates (built by customers' own `rebuild_stats`) and scores, generated with set-based SQL.
SQLite is cached as ``bench/.cache/segments-<n>.db``; PostgreSQL keeps it in schema
``bench_segments_<n>`` of PATRON_BENCH_DATABASE_URL or PATRON_TEST_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); both are reused by later runs.

For each segment and backend: the members; the seconds of a live count, first run (cold caches
after other work) and warm (median of the next three, as while a marketer edits rules); the
seconds of a full materialisation into an empty segment (every member entered and recorded);
the seconds of the incremental update after one customer's order; and whether the warm count
is under 1 s and the materialisation under 10 s.

    .venv/bin/python bench/segments.py [--customers 1000000] [--orders 10000000]
        [--events 5000000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from alembic.migration import MigrationContext
from sqlalchemy import text

from patron.customers import service as customers_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from patron.segments import service

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
CATEGORIES = (
    "shoes",
    "bags",
    "shirts",
    "pants",
    "hats",
    "socks",
    "coats",
    "belts",
    "watches",
    "toys",
    "books",
    "games",
    "tea",
    "coffee",
    "plants",
    "lamps",
    "mugs",
    "pens",
    "soap",
    "candles",
)

SEGMENTS: tuple[tuple[str, dict], ...] = (
    (
        "VIPs at risk",
        {
            "type": "and",
            "children": [
                {
                    "type": "score",
                    "field": "lifecycle_stage",
                    "op": "in",
                    "value": ["at_risk", "former"],
                },
                {"type": "score", "field": "clv_percentile", "op": "gte", "value": 70},
            ],
        },
    ),
    (
        "Repeat buyers, emailable",
        {
            "type": "and",
            "children": [
                {"type": "purchase", "field": "order_count", "op": "gte", "value": 3},
                {"type": "consent", "channel": "email", "status": "granted"},
            ],
        },
    ),
    (
        "Shoe buyers, 90 days, spent 100+",
        {
            "type": "and",
            "children": [
                {"type": "bought", "by": "category", "value": ["shoes"], "within_days": 90},
                {"type": "purchase", "field": "total_spent_cents", "op": "gte", "value": 10000},
            ],
        },
    ),
    (
        "Browsing but not buying",
        {
            "type": "and",
            "children": [
                {
                    "type": "event",
                    "name": "viewed_product",
                    "op": "at_least",
                    "count": 2,
                    "within_days": 30,
                },
                {
                    "type": "or",
                    "children": [
                        {
                            "type": "purchase",
                            "field": "last_order_at",
                            "op": "before_days",
                            "value": 60,
                        },
                        {"type": "purchase", "field": "order_count", "op": "eq", "value": 0},
                    ],
                },
                {
                    "type": "not",
                    "children": [{"type": "consent", "channel": "email", "status": "unsubscribed"}],
                },
            ],
        },
    ),
    (
        "Gold plan or big baskets",
        {
            "type": "or",
            "children": [
                {"type": "attribute", "key": "plan", "op": "eq", "value": "gold"},
                {
                    "type": "and",
                    "children": [
                        {
                            "type": "purchase",
                            "field": "average_order_cents",
                            "op": "gte",
                            "value": 15000,
                        },
                        {"type": "profile", "field": "locale", "op": "starts_with", "value": "en"},
                    ],
                },
            ],
        },
    ),
)


def _sqlite_script(n: int, m: int, e: int) -> list[str]:
    """Set-based SQLite statements that fill the tables."""
    rnd = "abs(random())"
    ts = "strftime('%Y-%m-%d %H:%M:%S', '{base}', '+' || ({expr}) || ' seconds') || '.000000'"
    seq = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {k}) "
    cats = " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(CATEGORIES))
    buyers = int(n * 0.7)
    created = ts.format(base="2022-01-01", expr=f"{rnd} % (1400 * 86400)")
    placed = ts.format(base="2023-11-01", expr=f"{rnd} % (1096 * 86400)")
    occurred = ts.format(base="2026-05-05", expr=f"{rnd} % (180 * 86400)")
    return [
        seq.format(k=n) + "INSERT INTO customers (id, external_id, email, first_name, last_name,"
        " birthday, locale, attributes, created_at, updated_at) SELECT i, printf('c%08d', i),"
        " printf('user%d@example.com', i), 'First' || (i % 1000), 'Last' || (i % 5000),"
        f" CASE WHEN i % 3 = 0 THEN NULL ELSE date('1950-01-01', '+' || ({rnd} % 20000) ||"
        " ' days') END, CASE i % 4 WHEN 0 THEN 'en-US' WHEN 1 THEN 'de-DE' WHEN 2 THEN"
        f" 'fr-FR' ELSE 'en-GB' END, json_object('plan', CASE {rnd} % 10 WHEN 0 THEN 'gold'"
        f" WHEN 1 THEN 'silver' ELSE 'free' END, 'visits', {rnd} % 100), {created}, {created}"
        " FROM n",
        seq.format(k=n) + "INSERT INTO consents (customer_id, channel, status, updated_at,"
        f" source) SELECT i, 'email', CASE WHEN {rnd} % 10 < 7 THEN 'granted' ELSE"
        " 'unsubscribed' END, '2026-01-01 00:00:00.000000', 'bench' FROM n WHERE i % 5 <> 0",
        seq.format(k=m) + "INSERT INTO orders (id, external_id, customer_id, placed_at, status,"
        " currency, total_cents, discount_cents, refunded_cents, coupon_code, source,"
        " created_at, updated_at) SELECT i, printf('o%09d', i), CASE WHEN i % 10 < 6 THEN"
        f" 1 + {rnd} % {buyers // 5} ELSE 1 + {rnd} % {buyers} END, {placed}, CASE"
        f" WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 50 = 1 THEN 'refunded' ELSE 'paid' END,"
        f" 'USD', 500 + {rnd} % 19500, 0, 0, CASE WHEN i % 10 = 3 THEN 'SAVE10' ELSE NULL END,"
        " 'bench', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000' FROM n",
        "UPDATE orders SET refunded_cents = total_cents WHERE status = 'refunded'",
        "INSERT INTO order_lines (id, order_id, product_id, sku, name, category, quantity,"
        " unit_price_cents, total_cents) SELECT id, id, NULL, 'SKU' || (id % 2000),"
        f" 'Item', CASE (id / 20) % 20 {cats} END, 1, total_cents, total_cents FROM orders",
        seq.format(k=e) + "INSERT INTO events (id, message_id, type, name, customer_id,"
        " anonymous_id, properties, context, occurred_at, received_at) SELECT i,"
        f" printf('m%09d', i), 'track', CASE WHEN {rnd} % 10 < 6 THEN 'viewed_product' WHEN"
        f" {rnd} % 2 = 0 THEN 'added_to_cart' ELSE 'opened_email' END, 1 + {rnd} % {n}, NULL,"
        f" json_object('category', CASE {rnd} % 20 {cats} END), '{{}}', {occurred}, {occurred}"
        " FROM n",
    ]


def _pg_script(n: int, m: int, e: int) -> list[str]:
    """Set-based PostgreSQL statements that fill the tables."""
    cats = "(ARRAY[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "])"
    buyers = int(n * 0.7)
    return [
        "INSERT INTO customers (id, external_id, email, first_name, last_name, birthday, locale,"
        " attributes, created_at, updated_at) SELECT i, 'c' || lpad(i::text, 8, '0'),"
        " 'user' || i || '@example.com', 'First' || (i % 1000), 'Last' || (i % 5000),"
        " CASE WHEN i % 3 = 0 THEN NULL ELSE date '1950-01-01' + (random() * 20000)::int END,"
        " (ARRAY['en-US', 'de-DE', 'fr-FR', 'en-GB'])[1 + i % 4],"
        " jsonb_build_object('plan', CASE WHEN random() < 0.1 THEN 'gold' WHEN random() < 0.11"
        " THEN 'silver' ELSE 'free' END, 'visits', (random() * 100)::int),"
        " timestamptz '2022-01-01' + random() * interval '1400 days', now()"
        f" FROM generate_series(1, {n}) AS i",
        "INSERT INTO consents (customer_id, channel, status, updated_at, source) SELECT i,"
        " 'email', CASE WHEN random() < 0.7 THEN 'granted' ELSE 'unsubscribed' END, now(),"
        f" 'bench' FROM generate_series(1, {n}) AS i WHERE i % 5 <> 0",
        "INSERT INTO orders (id, external_id, customer_id, placed_at, status, currency,"
        " total_cents, discount_cents, refunded_cents, coupon_code, source, created_at,"
        " updated_at) SELECT i, 'o' || lpad(i::text, 9, '0'), CASE WHEN i % 10 < 6 THEN"
        f" 1 + (random() * {buyers // 5 - 1})::int ELSE 1 + (random() * {buyers - 1})::int END,"
        " timestamptz '2023-11-01' + random() * interval '1096 days', CASE WHEN i % 20 = 0"
        " THEN 'cancelled' WHEN i % 50 = 1 THEN 'refunded' ELSE 'paid' END, 'USD',"
        " 500 + (random() * 19500)::int, 0, 0, CASE WHEN i % 10 = 3 THEN 'SAVE10' END,"
        f" 'bench', now(), now() FROM generate_series(1, {m}) AS i",
        "UPDATE orders SET refunded_cents = total_cents WHERE status = 'refunded'",
        "INSERT INTO order_lines (id, order_id, product_id, sku, name, category, quantity,"
        " unit_price_cents, total_cents) SELECT id, id, NULL, 'SKU' || (id % 2000), 'Item',"
        f" {cats}[1 + (id / 20) % 20], 1, total_cents, total_cents FROM orders",
        "INSERT INTO events (id, message_id, type, name, customer_id, anonymous_id, properties,"
        " context, occurred_at, received_at) SELECT i, 'm' || lpad(i::text, 9, '0'), 'track',"
        " CASE WHEN random() < 0.6 THEN 'viewed_product' WHEN random() < 0.5 THEN"
        f" 'added_to_cart' ELSE 'opened_email' END, 1 + (random() * {n - 1})::int, NULL,"
        f" jsonb_build_object('category', {cats}[1 + (random() * 19)::int]), '{{}}',"
        " t, t FROM (SELECT i, timestamptz '2026-05-05' + random() * interval '180 days' AS t"
        f" FROM generate_series(1, {e}) AS i) AS g",
    ]


SCORES = (
    "INSERT INTO customer_scores (customer_id, computed_at, recency_score, frequency_score,"
    " monetary_score, rfm_segment, lifecycle_stage, p_alive, churn_risk,"
    " predicted_clv_cents, clv_percentile) SELECT customer_id, :now, 1 + customer_id % 5,"
    " 1 + (customer_id / 5) % 5, 1 + (customer_id / 25) % 5, 'segment' || (customer_id % 11),"
    " CASE customer_id % 6 WHEN 0 THEN 'new' WHEN 1 THEN 'loyal' WHEN 2 THEN 'occasional'"
    " WHEN 3 THEN 'at_risk' WHEN 4 THEN 'former' ELSE 'ambassador' END,"
    " (customer_id % 100) / 100.0, 1 - (customer_id % 100) / 100.0, total_spent_cents * 2,"
    " (customer_id * 7 % 1000) / 10.0 FROM customer_stats WHERE order_count > 0"
)


def _fill(engine, statements: list[str]) -> None:
    """Run the generator statements, rebuild aggregates, add scores, analyse."""
    for statement in statements:
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(statement))
        print(f"  {statement[:60]}… {time.perf_counter() - started:.0f} s", flush=True)
    with transaction(make_sessionmaker(engine)) as session:
        customers_service.rebuild_stats(session)
        session.execute(
            text(SCORES),
            {
                "now": NOW.replace(tzinfo=None).isoformat(sep=" ")
                if engine.dialect.name == "sqlite"
                else NOW
            },
        )
    _analyze(engine)


def _analyze(engine) -> None:
    """Refresh the planner's statistics, as autovacuum (PostgreSQL) or an operator would."""
    started = time.perf_counter()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
            print(f"  analysed in {time.perf_counter() - started:.0f} s", flush=True)
            return
        for table in (
            "customers",
            "consents",
            "orders",
            "order_lines",
            "events",
            "customer_stats",
            "customer_scores",
        ):  # steady state: autovacuum has run
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    print(f"  analysed in {time.perf_counter() - started:.0f} s", flush=True)


def _upgrade(engine) -> bool:
    """Migrate the schema; whether a revision was applied (new indexes need statistics)."""

    def heads() -> tuple:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_heads()

    before = heads()
    upgrade(engine)
    return heads() != before


def _filled(engine, n: int) -> bool:
    """Whether the database already holds the generated data."""
    with engine.connect() as conn:
        return (conn.scalar(text("SELECT count(*) FROM customer_scores")) or 0) > 0 and conn.scalar(
            text("SELECT count(*) FROM customers")
        ) == n


def sqlite_engine(n: int, m: int, e: int):
    """The cached SQLite database, generated on first use."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"segments-{n}-{m}-{e}.db"
    engine = make_engine(f"sqlite:///{path}")
    migrated = _upgrade(engine)
    if not _filled(engine, n):
        print(f"generating {path} …", flush=True)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-1500000")
        _fill(engine, _sqlite_script(n, m, e))
    elif migrated:
        _analyze(engine)
    return engine


def pg_engine(n: int, m: int, e: int):
    """The PostgreSQL schema with the data, generated on first use (None: no server)."""
    url = (
        os.environ.get("PATRON_BENCH_DATABASE_URL")
        or os.environ.get("PATRON_TEST_DATABASE_URL")
        or PG_DEFAULT
    )
    schema = f"bench_segments_{n}_{m}_{e}"
    try:
        with make_engine(url).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    except Exception as exc:  # any connection failure: report it and go on
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}")
        return None
    engine = make_engine(url, schema=schema)
    migrated = _upgrade(engine)
    if not _filled(engine, n):
        print(f"generating schema {schema} …", flush=True)
        _fill(engine, _pg_script(n, m, e))
    elif migrated:
        _analyze(engine)
    return engine


def _timed(action) -> tuple[float, object]:
    """Seconds taken by action and its result."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(engine, backend: str) -> list[tuple]:
    """Count (first, then warm), materialise and update each segment; rows for the table."""
    sessions = make_sessionmaker(engine)
    rows = []
    for name, tree in SEGMENTS:
        counts = []
        for _ in range(4):
            with transaction(sessions) as session:
                seconds, members = _timed(
                    lambda t=tree, s=session: service.count(session=s, rules_json=t, now=NOW)
                )
            counts.append(seconds)
        warm = statistics.median(counts[1:])
        with sessions() as session, session.begin():
            mat_s, segment = _timed(
                lambda t=tree, nm=name, s=session: service.create_segment(
                    session=s, name=f"bench {nm}", rules_json=t, now=NOW
                )
            )
            assert segment.member_count == members, (segment.member_count, members)
            inc_s, _ = _timed(
                lambda s=session: service.update_for_customers(
                    session=s, customer_ids=[12345], now=NOW
                )
            )
            session.rollback()
        met = "yes" if warm < 1 and mat_s < 10 else "NO"
        rows.append((name, backend, members, counts[0], warm, mat_s, inc_s, met))
        print(
            f"  {name}: {members} members, count {counts[0]:.2f} s first, {warm:.2f} s warm, "
            f"materialise {mat_s:.2f} s",
            flush=True,
        )
    return rows


def main() -> None:
    """Generate (or reuse) the data, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = (args.customers, args.orders, args.events)
    rows = []
    for backend in args.backends.split(","):
        engine = sqlite_engine(*sizes) if backend == "sqlite" else pg_engine(*sizes)
        if engine is not None:
            rows += measure(engine, backend)
            engine.dispose()
    print(
        f"\n{args.customers:,} customers, {args.orders:,} orders, {args.events:,} events; "
        "targets: count < 1 s, materialise < 10 s\n"
    )
    header = (
        "segment",
        "backend",
        "members",
        "count s (first)",
        "count s (warm)",
        "materialise s",
        "1-order update s",
        "met?",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, backend, members, first, warm, mat_s, inc_s, met in rows:
        print(
            f"| {name} | {backend} | {members:,} | {first:.2f} | {warm:.2f} | {mat_s:.2f} | "
            f"{inc_s:.3f} | {met} |"
        )


if __name__ == "__main__":
    main()
