"""Benchmark loyalty on PostgreSQL: earning on many orders, redemptions under contention.

Usage: ``.venv/bin/python bench/loyalty.py [--orders 100000] [--threads 8] [--redemptions 400]
[--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`` (``--orders 1000000`` for the
full size).

Earning: ``--orders`` synthetic ``order.completed`` payloads (1-4 lines, 5 categories, 50,000
members, one live category multiplier rule, two tiers) handed to the earning consumer's handler
in its batches of 5,000, as the event pump does: points computed array-wise, one executemany each
for lots, entries, account sums and ``loyalty.points_earned`` events, tiers reviewed. Ceiling:
the same number of lot and entry rows written by a bare executemany INSERT into two plain tables
of the same shape, no computation.

Redemptions: ``--threads`` threads redeem a 1-point reward ``--redemptions`` times in all, each in
its own transaction with its own key, all on ONE member's balance (worst contention), then
spread over one member per thread. Ceiling: the same threads running a bare
``UPDATE ... SET balance = balance - 1`` on the same row(s), one commit each.
Prints a table; the machine is 2 shared cores: compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patron.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from patron.events.types import StoredEvent  # noqa: E402
from patron.loyalty import earning, redemption, service  # noqa: E402
from patron.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BATCH = 5000
CATEGORIES = ["shoes", "hats", "bags", "socks", "coats"]


def prepare(pg_url: str):
    """A fresh schema, migrated, with the programme and one multiplier rule."""
    schema = f"bench_loyalty_{uuid.uuid4().hex[:6]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(pg_url, schema=schema)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        service.save_programme(
            session=s,
            now=NOW,
            config={
                "points_per_unit": 1,
                "return_window_days": 14,
                "tiers": [
                    {"name": "Member", "threshold": 0},
                    {"name": "Gold", "threshold": 2000, "multiplier": 1.5},
                ],
            },
        )
        service.save_rule(
            session=s,
            now=NOW,
            active=True,
            config={
                "name": "Shoes x2",
                "trigger": "multiplier",
                "multiplier": 2,
                "categories": ["shoes"],
            },
        )
    return admin, engine, sessions, schema


def orders(n: int, seed: int = 7) -> list[StoredEvent]:
    """n synthetic order.completed events."""
    rng = np.random.default_rng(seed)
    customers = rng.integers(1, 50_001, n)
    n_lines = rng.integers(1, 5, n)
    prices = rng.integers(500, 20_000, n_lines.sum())
    cats = rng.integers(0, len(CATEGORIES), n_lines.sum())
    out, k = [], 0
    placed = (NOW - timedelta(days=30)).isoformat()
    for i in range(n):
        lines = []
        for _ in range(n_lines[i]):
            lines.append(
                {
                    "sku": f"s{cats[k]}",
                    "category": CATEGORIES[cats[k]],
                    "quantity": 1,
                    "unit_price_cents": int(prices[k]),
                    "total_cents": int(prices[k]),
                }
            )
            k += 1
        total = sum(x["total_cents"] for x in lines)
        data = {
            "order_id": i + 1,
            "status": "placed",
            "placed_at": placed,
            "total_cents": total,
            "discount_cents": 0,
            "lines": lines,
            "replaced": False,
        }
        out.append(StoredEvent(i + 1, i + 1, "order.completed", int(customers[i]), data, NOW))
    return out


def bench_earning(sessions, events) -> tuple[float, int]:
    """Seconds to earn on every order, in the consumer's batches; total points."""
    start, points = time.perf_counter(), 0
    for i in range(0, len(events), BATCH):
        with transaction(sessions) as s:
            points += earning.earn_orders(session=s, events=events[i : i + BATCH], now=NOW)
    return time.perf_counter() - start, points


def bench_insert_ceiling(engine, n: int) -> float:
    """Seconds for a bare executemany of n lot rows and n entry rows into plain tables."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bare_lots (id bigserial primary key, customer_id bigint,"
                " points bigint, pending bigint, earned_at timestamptz)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE bare_entries (id bigserial primary key, customer_id"
                " bigint, kind text, points bigint, reason text, created_at timestamptz)"
            )
        )
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        size = min(BATCH, n - i)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO bare_lots (customer_id, points, pending, earned_at)"
                    " VALUES (:c, :p, :p, :t)"
                ),
                [{"c": j, "p": 10, "t": NOW} for j in range(size)],
            )
            conn.execute(
                text(
                    "INSERT INTO bare_entries (customer_id, kind, points, reason,"
                    " created_at) VALUES (:c, 'earned', :p, 'purchase', :t)"
                ),
                [{"c": j, "p": 10, "t": NOW} for j in range(size)],
            )
    return time.perf_counter() - start


def _threads(threads: int, work) -> float:
    """Seconds for `threads` threads, released together, each running work(i)."""
    barrier = threading.Barrier(threads + 1)

    def run(i):
        barrier.wait()
        work(i)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - start


def bench_redeem(sessions, threads: int, total: int, members: list[int]) -> tuple[float, int]:
    """Seconds for `total` redemptions by `threads` threads over the members; successes."""
    with transaction(sessions) as s:
        reward = redemption.create_reward(
            session=s, name="b", kind="custom", cost_points=1, now=NOW
        ).id
        for m in members:
            service.award(
                session=s,
                customer_id=m,
                points=total,
                reason="bench",
                key=f"bench:{m}:{uuid.uuid4().hex}",
                now=NOW,
            )
    per, done = total // threads, [0] * threads

    def work(i):
        member = members[i % len(members)]
        for _ in range(per):
            with transaction(sessions) as s:
                redemption.redeem(
                    session=s,
                    customer_id=member,
                    reward_id=reward,
                    key=f"{uuid.uuid4().hex}",
                    now=NOW,
                )
            done[i] += 1

    return _threads(threads, work), sum(done)


def bench_update_ceiling(engine, threads: int, total: int, members: list[int]) -> float:
    """Seconds for the same threads running bare balance decrements, one commit each."""
    per = total // threads

    def work(i):
        member = members[i % len(members)]
        for _ in range(per):
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE loyalty_accounts SET balance = balance - 1 WHERE customer_id = :c"
                    ),
                    {"c": member},
                )

    return _threads(threads, work)


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--redemptions", type=int, default=400)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    admin, engine, sessions, schema = prepare(args.pg_url)
    rows = []
    try:
        events = orders(args.orders)
        seconds, points = bench_earning(sessions, events)
        ceiling = bench_insert_ceiling(engine, args.orders)
        rows.append(
            (
                f"earn on {args.orders:,} orders",
                f"{args.orders / seconds:,.0f} orders/s",
                f"{points / seconds:,.0f} points/s",
                f"{args.orders / ceiling:,.0f} rows-pairs/s",
                f"{ceiling / seconds:.2f}",
            )
        )
        t, n = args.threads, args.redemptions
        for label, members in (
            ("one balance", [900_001]),
            ("one balance per thread", [900_100 + i for i in range(t)]),
        ):
            seconds, done = bench_redeem(sessions, t, n, members)
            ceiling = bench_update_ceiling(engine, t, n, members)
            rows.append(
                (
                    f"redeem, {t} threads, {label}",
                    f"{done / seconds:,.0f} redemptions/s",
                    "",
                    f"{done / ceiling:,.0f} updates/s",
                    f"{ceiling / seconds:.2f}",
                )
            )
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    table = Table(title="loyalty on PostgreSQL (ours beside a bare-SQL ceiling, same DB, same run)")
    for column in ("task", "ours", "points", "ceiling", "ours / ceiling"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
