"""Benchmark a full `patron refresh` on 1 million customers, on SQLite and PostgreSQL.

Usage: ``.venv/bin/python bench/refresh.py [--customers 1000000] [--backends sqlite,postgresql]
[--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]``.

Per-customer aggregates are generated directly into ``customers`` and ``customer_stats`` (no
orders): a synthetic BG/NBD customer base (seed 7; r=0.5, alpha=3 weeks, a=0.8, b=2.5; first
purchases spread over two years; Gamma spend). The SQLite database is cached as
``bench/.cache/refresh-<n>.db`` and copied before timing; PostgreSQL keeps the data in schema
``bench_refresh_<n>``. Each backend is timed three times: the first refresh (no stored scores:
every customer gets a score row and a stage change), a second one right after at the same instant
(nothing changed) and one a day later (the daily steady state: most predictions move).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patron.analytics.refresh import STEPS, refresh  # noqa: E402
from patron.db import make_engine, make_sessionmaker  # noqa: E402
from patron.migrate import upgrade  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
NOW_US = np.datetime64("2026-11-01T00:00:00", "us")
CHUNK = 100_000


def simulate(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Aggregates of a synthetic BG/NBD customer base observed until NOW."""
    rng = np.random.default_rng(seed)
    week_us = 7 * 86_400 * 10**6
    age = rng.uniform(0.0, 104.0, n)
    lam = rng.gamma(0.5, 1.0 / 3.0, n)
    drop = rng.beta(0.8, 2.5, n)
    repeats = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    clock = np.zeros(n)
    active = np.flatnonzero(rng.random(n) >= drop)
    while active.size:
        clock[active] += rng.exponential(1.0 / np.maximum(lam[active], 1e-9))
        active = active[clock[active] <= age[active]]
        repeats[active] += 1
        last[active] = clock[active]
        active = active[rng.random(active.size) >= drop[active]]
    first_at = NOW_US - (age * week_us).astype(np.int64)
    last_at = first_at + (last * week_us).astype(np.int64)
    mean_spend = rng.gamma(6.0, 700.0, n)
    first_cents = np.round(rng.gamma(6.0, mean_spend / 6.0)).astype(np.int64) + 100
    repeat_cents = np.round(rng.gamma(np.maximum(6.0 * repeats, 1e-9), mean_spend / 6.0))
    extra_orders = rng.binomial(repeats + 1, 0.05)
    return {
        "first": first_at,
        "last": last_at,
        "days": repeats + 1,
        "orders": repeats + 1 + extra_orders,
        "first_cents": first_cents,
        "total": first_cents + np.where(repeats > 0, repeat_cents, 0).astype(np.int64),
    }


def _stamps(values: np.ndarray, suffix: str = "") -> list[str]:
    """Timestamps as text in the layout SQLAlchemy stores on SQLite (plus a zone suffix)."""
    text_values = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ")
    return [v + suffix for v in text_values.tolist()]


def _chunks(data: dict[str, np.ndarray], suffix: str):
    """Yield (customer rows, stats rows) in chunks of CHUNK customers."""
    n = data["first"].size
    created = NOW.isoformat(sep=" ").replace("+00:00", "") + suffix
    for start in range(0, n, CHUNK):
        end = min(start + CHUNK, n)
        ids = list(range(start + 1, end + 1))
        customers = [(i, f"bench-{i}", "{}", created, created) for i in ids]
        first, last = (
            _stamps(data["first"][start:end], suffix),
            _stamps(data["last"][start:end], suffix),
        )
        stats = list(
            zip(
                ids,
                first,
                last,
                data["orders"][start:end].tolist(),
                data["days"][start:end].tolist(),
                data["total"][start:end].tolist(),
                data["first_cents"][start:end].tolist(),
                strict=True,
            )
        )
        yield customers, stats


def generate_sqlite(path: Path, n: int) -> None:
    """Create the cached SQLite database with n customers' aggregates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    for customers, stats in _chunks(simulate(n), ""):
        cursor.executemany(
            "INSERT INTO customers (id, external_id, attributes, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?)",
            customers,
        )
        cursor.executemany(
            "INSERT INTO customer_stats (customer_id, first_order_at, "
            "last_order_at, order_count, purchase_days, total_spent_cents, "
            "first_day_cents) VALUES (?, ?, ?, ?, ?, ?, ?)",
            stats,
        )
    raw.commit()
    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    engine.dispose()


def prepare_postgres(url: str, n: int):
    """Create (once) the PostgreSQL schema with n customers; empty its scores; return engine."""
    schema = f"bench_refresh_{n}"
    admin = make_engine(url)
    with admin.begin() as conn:
        exists = conn.scalar(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}
        )
        if exists:
            count = conn.scalar(text(f"SELECT count(*) FROM {schema}.customer_stats"))
            if count != n:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                exists = False
        if not exists:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    if not exists:
        _fill_postgres(engine, n)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE customer_scores, lifecycle_changes, score_runs"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return engine


def _fill_postgres(engine, n: int) -> None:
    """COPY n customers' rows into PostgreSQL."""
    raw = engine.raw_connection()
    with raw.driver_connection.cursor() as cursor:
        for customers, stats in _chunks(simulate(n), "+00"):
            with cursor.copy(
                "COPY customers (id, external_id, attributes, created_at, updated_at) FROM STDIN"
            ) as copy:
                for row in customers:
                    copy.write_row(row)
            with cursor.copy(
                "COPY customer_stats (customer_id, first_order_at, last_order_at, "
                "order_count, purchase_days, total_spent_cents, first_day_cents) "
                "FROM STDIN"
            ) as copy:
                for row in stats:
                    copy.write_row(row)
        cursor.execute(f"SELECT setval('customers_id_seq', {n})")
    raw.commit()
    raw.close()


def time_refresh(engine, backend: str, n: int, table: Table) -> None:
    """Run refresh three times (first, again, a day later) and add the rows to the table."""
    sessions = make_sessionmaker(engine)
    for label, now in (("first", NOW), ("second", NOW), ("next day", NOW + timedelta(days=1))):
        started = time.perf_counter()
        report = refresh(sessions=sessions, now=now)
        total = time.perf_counter() - started
        steps = [f"{report.steps.get(step, 0.0):.2f}" for step in STEPS]
        table.add_row(
            backend,
            label,
            f"{n:,}",
            f"{total:.1f}",
            *steps,
            f"{report.stage_changes:,}",
            report.model or report.fit_note or "",
        )


def main() -> None:
    """Parse options, prepare the databases, time the refreshes, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    n = args.customers
    table = Table(title=f"patron refresh, {n:,} customers (seconds)")
    for column in ("backend", "run", "customers", "total", *STEPS, "stage changes", "model"):
        table.add_column(column, justify="left" if column in {"backend", "run"} else "right")
    console = Console(width=170)
    for backend in args.backends.split(","):
        console.print(f"preparing {backend} ...")
        if backend == "sqlite":
            cached = CACHE / f"refresh-{n}.db"
            if not cached.exists():
                generate_sqlite(cached, n)
            work = CACHE / f"refresh-{n}-work.db"
            for stale in CACHE.glob(f"refresh-{n}-work.db*"):
                stale.unlink()
            shutil.copy(cached, work)
            engine = make_engine(f"sqlite:///{work}")
            upgrade(engine)
        else:
            engine = prepare_postgres(args.pg_url, n)
        time_refresh(engine, backend, n, table)
        engine.dispose()
    console.print(table)


if __name__ == "__main__":
    main()
