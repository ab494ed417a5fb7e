"""Benchmark of coupon code batches: 100,000 unique codes generated set-based, on both DBs.

For each database (a fresh SQLite file; a fresh schema ``bench_coupons`` of
PATRON_BENCH_DATABASE_URL or PATRON_TEST_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test) with Patron's migrations:

- ours: `coupons.service.generate_batch` of N codes in one transaction: cryptographic random
  bytes turned into codes with NumPy, one INSERT ... SELECT FROM unnest/json_each ... ON CONFLICT
  DO NOTHING into the table with its unique index, collisions retried as a set;
- ceiling: the same N rows precomputed (not timed) and written by a bare INSERT ... SELECT
  (no conflict clause) into the same table and indexes, in one transaction;
- generation alone: the codes made in memory, no database.

    .venv/bin/python bench/coupons.py [--codes 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from patron.coupons import codes, service
from patron.db import UTCDateTime, make_engine, make_sessionmaker, transaction, utcnow
from patron.migrate import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_coupons"


def _pg_url() -> str:
    """The PostgreSQL server of the bench."""
    return (
        os.environ.get("PATRON_BENCH_DATABASE_URL")
        or os.environ.get("PATRON_TEST_DATABASE_URL")
        or PG_DEFAULT
    )


def _campaign(sessions, name: str) -> int:
    """A unique-code campaign's id."""
    with transaction(sessions) as s:
        c = service.create_campaign(
            session=s,
            name=name,
            kind="unique",
            code=None,
            discount_type="percent",
            percent=10,
            now=utcnow(),
        )
        return c.id


def _bare_insert(sessions, campaign_id: int, rows: list[str]) -> None:
    """The ceiling: a plain INSERT ... SELECT of precomputed codes, no conflict handling."""
    with transaction(sessions) as s:
        if s.get_bind().dialect.name == "postgresql":
            source, value = "unnest(:codes) AS c", "c"
            params = {"codes": rows}
            binds = [bindparam("codes", type_=ARRAY(String))]
        else:
            source, value = "json_each(:codes)", "value"
            params = {"codes": json.dumps(rows)}
            binds = []
        statement = text(
            "INSERT INTO coupon_codes (campaign_id, code, redeemed_count, created_at) "
            f"SELECT :campaign, {value}, 0, :now FROM {source}"
        ).bindparams(*binds, bindparam("now", type_=UTCDateTime()))
        s.execute(statement, {"campaign": campaign_id, "now": utcnow(), **params})


def run(engine, n: int) -> dict:
    """Seconds of ours, the ceiling and generation alone on one database."""
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    ours_id, ceiling_id = _campaign(sessions, "ours"), _campaign(sessions, "ceiling")
    started = time.perf_counter()
    made = codes.fresh_codes(n, 10)
    generation = time.perf_counter() - started
    precomputed = [f"C{c}" for c in made]  # another code space: no clash with ours
    started = time.perf_counter()
    _bare_insert(sessions, ceiling_id, precomputed)
    ceiling = time.perf_counter() - started
    started = time.perf_counter()
    with transaction(sessions) as s:
        created = service.generate_batch(session=s, campaign_id=ours_id, count=n, now=utcnow())
    ours = time.perf_counter() - started
    with transaction(sessions) as s:
        stored = codes.count_codes(s, ours_id)
    assert created == stored == n, (created, stored)
    return {"ours": ours, "ceiling": ceiling, "generation": generation}


def main() -> None:
    """Run on SQLite and PostgreSQL and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=100_000)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        results["SQLite"] = run(engine, args.codes)
        engine.dispose()
    admin = make_engine(_pg_url())
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    try:
        engine = make_engine(_pg_url(), schema=SCHEMA)
        results["PostgreSQL"] = run(engine, args.codes)
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
    n = args.codes
    print(f"\nUnique coupon codes: {n:,} per batch (10 letters, 31-letter alphabet)\n")
    print(
        f"| {'database':<10} | {'ours s':>7} | {'codes/s':>9} | {'ceiling s':>9} | "
        f"{'ceiling/ours':>12} | {'generation s':>12} |"
    )
    print(f"|{'-' * 12}|{'-' * 9}|{'-' * 11}|{'-' * 11}|{'-' * 14}|{'-' * 14}|")
    for name, r in results.items():
        print(
            f"| {name:<10} | {r['ours']:7.2f} | {n / r['ours']:9,.0f} | {r['ceiling']:9.2f} | "
            f"{r['ceiling'] / r['ours']:11.0%} | {r['generation']:12.3f} |"
        )
    print(
        "\nceiling: a bare INSERT ... SELECT of the same number of precomputed rows into the "
        "same table; ceiling/ours near 100% means generation and collision handling cost little."
    )


if __name__ == "__main__":
    main()
