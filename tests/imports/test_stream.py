"""Streaming import: batches, byte progress, repeated order ids, flat memory on a large file."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from patron.customers.tables import Order, OrderLine
from patron.db import transaction
from patron.imports import orders, service
from patron.imports.rules import Record, RowError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).parents[2]


def _rows(*orders: str) -> list[tuple[int, dict[str, str]]]:
    """Numbered order rows (from row 2) with these order ids, one line each."""
    return [
        (number, {"external_id": oid, "customer_id": "c1", "placed_at": "2025-01-01", "sku": "A"})
        for number, oid in enumerate(orders, start=2)
    ]


def test_a_non_consecutive_repeat_of_an_order_id_is_rejected_with_the_earlier_rows():
    results = list(orders.order_records(_rows("o1", "o1", "o2", "o1", "o3")))
    records = [r for r in results if isinstance(r, Record)]
    errors = [r for r in results if isinstance(r, RowError)]
    assert [(r.value.external_id, r.rows) for r in records] == [
        ("o1", (2, 3)),
        ("o2", (4,)),
        ("o3", (6,)),
    ]
    assert errors == [
        RowError(
            5,
            "external_id",
            "order 'o1' appeared before at rows 2-3: an order's rows must be consecutive "
            "(sort the file by order id and import it again)",
        )
    ]


def test_order_records_stream_without_reading_everything_first():
    def endless():
        number = 2
        while True:
            yield from _rows(f"o{number}")
            number += 1

    stream = orders.order_records(endless())
    first = next(stream)
    assert isinstance(first, Record) and first.value.external_id == "o2"


def _write_orders(path: Path, orders: int, *, seed: int = 7, lines: int = 3) -> int:
    """A generated orders file (1 to `lines` lines an order); returns its number of data rows."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w") as handle:
        handle.write("external_id,customer_id,placed_at,currency,status,sku,quantity,unit_price\n")
        for n in range(orders):
            day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00+00:00"
            customer = f"c{rng.randrange(max(orders // 3, 1))}"
            for line in range(rng.randint(1, lines)):
                handle.write(
                    f"o{n},{customer},{day},USD,paid,SKU-{line},{rng.randint(1, 4)},"
                    f"{rng.randint(100, 9999) / 100:.2f}\n"
                )
                rows += 1
    return rows


def test_batches_commit_progress_counts_bytes_and_reimport_changes_nothing(db, tmp_path):
    path = tmp_path / "orders.csv"
    rows = _write_orders(path, 50)
    seen: list[int] = []
    with service.open_source(kind="orders", path=path) as source:
        report = service.apply(
            factory=db.sessions,
            kind="orders",
            source=source,
            now=NOW,
            chunk_size=7,
            progress=seen.append,
        )
    assert (report.rows, report.created, report.rejected) == (rows, 50, [])
    assert seen == sorted(seen) and len(seen) >= 50 // 7 and seen[-1] == path.stat().st_size
    with transaction(db.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 50
        assert session.scalar(select(func.count()).select_from(OrderLine)) == rows
    with service.open_source(kind="orders", path=path) as source:
        again = service.apply(factory=db.sessions, kind="orders", source=source, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50)


def _peak_rss_kib(path: Path, database: Path) -> int:
    """Peak RSS (KiB) of a `patron import orders` child process."""
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        PATRON_DATABASE_URL=f"sqlite:///{database}",
        PATRON_SECRET_KEY="x",
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "patron", "import", "orders", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0
    return usage.ru_maxrss


def test_memory_stays_flat_on_a_large_file(tmp_path):
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _write_orders(small, 100)
    rows = _write_orders(large, 30_000, lines=5)
    assert rows > 85_000
    baseline = _peak_rss_kib(small, tmp_path / "small.db")
    peak = _peak_rss_kib(large, tmp_path / "large.db")
    # The whole file parsed first grew by about 1.5 KB a row (over 120 MB here); streaming
    # stays near flat.
    assert peak - baseline < 40 * 1024, (baseline, peak)


def test_every_imported_order_appends_its_order_completed_event(db, tmp_path):
    from patron.events.tables import LoggedEvent

    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,customer_id,placed_at,sku,quantity,unit_price\n"
        "o1,c1,2025-01-01,MUG,2,1.50\no1,c1,2025-01-01,TEE,1,3\no2,c2,2025-01-02,MUG,1,1.50\n"
    )
    for _ in range(2):
        with service.open_source(kind="orders", path=path) as source:
            service.apply(factory=db.sessions, kind="orders", source=source, now=NOW)
    path.write_text(path.read_text().replace("TEE,1,3", "TEE,2,3"))
    with service.open_source(kind="orders", path=path) as source:
        service.apply(factory=db.sessions, kind="orders", source=source, now=NOW)
    with transaction(db.sessions) as session:
        events = session.scalars(
            select(LoggedEvent)
            .where(LoggedEvent.type == "order.completed")
            .order_by(LoggedEvent.id)
        ).all()
        got = [
            (e.data["external_id"], e.data["replaced"], e.data["total_cents"], len(e.data["lines"]))
            for e in events
        ]
    assert got == [("o1", False, 600, 2), ("o2", False, 150, 1), ("o1", True, 900, 2)]
