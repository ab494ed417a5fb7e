"""Benchmark of `patron import orders` on a large generated CSV: rows/s and peak memory.

Usage: ``.venv/bin/python bench/import.py [--size-mb 100] [--postgresql] [--pg-url URL]``.

Generates an orders file of about --size-mb MB (seed 7; 1 to 3 lines an order, ~170 bytes an
order as in the 100 MB, 590,360-order file of issue 8; a customer for every three orders), cached
as ``bench/.cache/orders-<size>mb.csv``. Then runs ``python -m patron import orders FILE`` as a
child process on a fresh SQLite file (and, with --postgresql, on a fresh PostgreSQL schema,
dropped afterwards), and reads the child's peak RSS from ``os.wait4``. Prints rows, orders,
seconds, rows/s, orders/s, CPU seconds of the child and its peak RSS beside the target (300 MB).
The machine has 2 shared cores: wall seconds move with the load, CPU seconds less so.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patron.db import make_engine  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_MB = 300
HEADER = "external_id,customer_id,placed_at,currency,status,coupon_code,sku,quantity,unit_price\n"


def generate(path: Path, size_mb: float, seed: int = 7) -> tuple[int, int]:
    """Write an orders CSV of about size_mb MB; returns (rows, orders)."""
    rng = random.Random(seed)
    limit = int(size_mb * 1024 * 1024)
    rows = orders = written = 0
    with path.open("w") as handle:
        handle.write(HEADER)
        while written < limit:
            customer = f"customer-{rng.randrange(orders // 3 + 1):07d}"
            placed = f"20{rng.randint(20, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            stamp = f"{placed}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+00:00"
            coupon = "WELCOME" if rng.random() < 0.1 else ""
            lines = [
                f"order-{orders:08d},{customer},{stamp},USD,paid,{coupon},"
                f"SKU-{rng.randrange(500):04d},{rng.randint(1, 4)},"
                f"{rng.randint(100, 9999) / 100:.2f}\n"
                for _ in range(rng.choice((1, 1, 1, 2, 3)))
            ]
            text_ = "".join(lines)
            handle.write(text_)
            written += len(text_)
            rows += len(lines)
            orders += 1
    return rows, orders


def run_import(path: Path, url: str) -> tuple[float, float, float, str]:
    """Run the import as a child; (wall seconds, CPU seconds, peak RSS MB, summary line)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATRON_DATABASE_URL=url, PATRON_SECRET_KEY="x")
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "patron", "import", "orders", str(path)],
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        summary = out.read().strip().splitlines()[-1:] or ["(no output)"]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import failed: {summary[0]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, summary[0]


def main() -> None:
    """Generate the file, import it on each backend, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100)
    parser.add_argument("--postgresql", action="store_true", help="Also import into PostgreSQL.")
    parser.add_argument("--pg-url", default=os.environ.get("PATRON_TEST_DATABASE_URL", PG_DEFAULT))
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"orders-{args.size_mb:g}mb.csv"
    counts = CACHE / f"orders-{args.size_mb:g}mb.counts"
    if not path.exists() or not counts.exists():
        rows, orders = generate(path, args.size_mb)
        counts.write_text(f"{rows} {orders}")
    rows, orders = map(int, counts.read_text().split())
    table = Table(title=f"patron import orders: {path.stat().st_size / 2**20:.0f} MB file")
    for column in ("backend", "rows", "orders", "seconds", "rows/s", "orders/s", "CPU s"):
        table.add_column(column, justify="right")
    table.add_column("peak RSS MB", justify="right")
    table.add_column("target", justify="right")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(("sqlite", run_import(path, f"sqlite:///{tmp}/bench.db")))
    if args.postgresql:
        runs.append(("postgresql", _run_postgresql(path, args.pg_url)))
    for backend, (seconds, cpu, peak, summary) in runs:
        Console(stderr=True, width=160).print(f"{backend}: {summary}")
        table.add_row(
            backend,
            f"{rows:,}",
            f"{orders:,}",
            f"{seconds:.1f}",
            f"{rows / seconds:,.0f}",
            f"{orders / seconds:,.0f}",
            f"{cpu:.1f}",
            f"{peak:.0f}",
            f"< {TARGET_MB} {'ok' if peak < TARGET_MB else 'OVER'}",
        )
    Console(width=160).print(table)


def _run_postgresql(path: Path, url: str) -> tuple[float, float, float, str]:
    """Import into a fresh schema of the PostgreSQL database, dropped afterwards."""
    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        separator = "&" if "?" in url else "?"
        options = f"options=-csearch_path%3D{schema}"
        return run_import(path, f"{url}{separator}{options}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
