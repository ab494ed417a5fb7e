"""Benchmark dashboard reads and tracking writes alone and during a full `patron refresh`.

Usage: ``.venv/bin/python bench/concurrency.py [--customers 1000000] [--backends sqlite,postgresql]
[--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--alone-seconds 10] [--pause 0.05]``.

The customers come from the loader of ``bench/refresh.py`` (its cached SQLite file, its PostgreSQL
schema ``bench_refresh_<n>``). One refresh is run first so scores exist, as in steady state. Then
a real server process (`python -m patron serve`, one worker) is started on 127.0.0.1 and two client
threads send requests one after another with a short pause (``--pause``): a reader alternating
``GET /api/customers?limit=50`` and ``GET /api/customers/{id}/insights`` (an API key with the read
scope), a writer posting ``/v1/batch`` with 5 track events (a track key). Phase "alone": for
``--alone-seconds``; phase "during refresh": while `python -m patron refresh` runs in its own
process a day later (every prediction moves), at most ``--max-seconds``. Prints per backend and
phase: requests, p50 and p99 of reads and writes (ms), errors, and whether the targets hold during
the refresh (read p99 < 200 ms, write p99 < 500 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import orjson
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import refresh as loader  # noqa: E402  (bench/refresh.py: the 1M-customer data loader)
from ingest import start_server  # noqa: E402

from patron.analytics.refresh import refresh  # noqa: E402
from patron.auth import service as auth_service  # noqa: E402
from patron.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from patron.migrate import upgrade  # noqa: E402

READ_TARGET_MS, WRITE_TARGET_MS = 200.0, 500.0


def prepare(backend: str, n: int, pg_url: str) -> tuple[str, object]:
    """The database of n customers with one refresh done; returns (server URL, engine)."""
    if backend == "sqlite":
        cached = loader.CACHE / f"refresh-{n}.db"
        if not cached.exists():
            loader.generate_sqlite(cached, n)
        work = loader.CACHE / f"concurrency-{n}.db"
        for stale in loader.CACHE.glob(f"concurrency-{n}.db*"):
            stale.unlink()
        shutil.copy(cached, work)
        url = f"sqlite:///{work}"
        engine = make_engine(url)
        upgrade(engine)
    else:
        engine = loader.prepare_postgres(pg_url, n)
        schema = f"bench_refresh_{n}"
        url = f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    refresh(sessions=make_sessionmaker(engine), now=loader.NOW)
    return url, engine


def make_keys(engine) -> tuple[str, str]:
    """A read key and a track key."""
    with transaction(make_sessionmaker(engine)) as session:
        now = utcnow()
        read = auth_service.create_key(session=session, name="bench-read", scopes="read", now=now)
        track = auth_service.create_key(session=session, name="bench-trk", scopes="track", now=now)
    return read[1], track[1]


class Load:
    """A reader and a writer thread timing each request until stopped."""

    def __init__(self, base: str, read_key: str, track_key: str, n: int, pause: float):
        self.base, self.read_key, self.track_key, self.n, self.pause = (
            base,
            read_key,
            track_key,
            n,
            pause,
        )
        self.reads: list[float] = []
        self.writes: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def _loop(self, client: httpx.Client, request, into: list[float]) -> None:
        rng = random.Random(len(into) + id(into))
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                response = request(client, rng)
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text[:120]}")
            except httpx.HTTPError as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            into.append((time.perf_counter() - started) * 1000.0)
            self.stop.wait(self.pause)

    def _read(self, client: httpx.Client, rng: random.Random) -> httpx.Response:
        if rng.random() < 0.5:
            return client.get("/api/customers", params={"limit": 50})
        return client.get(f"/api/customers/{rng.randrange(1, self.n + 1)}/insights")

    def _write(self, client: httpx.Client, rng: random.Random) -> httpx.Response:
        batch = [
            {
                "type": "track",
                "event": "Product Viewed",
                "userId": f"bench-{rng.randrange(1, self.n + 1)}",
                "messageId": uuid.uuid4().hex,
                "properties": {"sku": f"sku-{rng.randrange(500)}"},
            }
            for _ in range(5)
        ]
        return client.post(
            "/v1/batch",
            content=orjson.dumps({"batch": batch}),
            headers={"Content-Type": "application/json"},
        )

    def start(self) -> list[threading.Thread]:
        """Start both threads."""
        readers = httpx.Client(
            base_url=self.base, timeout=60, headers={"Authorization": f"Bearer {self.read_key}"}
        )
        writers = httpx.Client(base_url=self.base, timeout=60, auth=(self.track_key, ""))
        threads = [
            threading.Thread(target=self._loop, args=(readers, self._read, self.reads)),
            threading.Thread(target=self._loop, args=(writers, self._write, self.writes)),
        ]
        for thread in threads:
            thread.start()
        return threads

    def finish(self, threads: list[threading.Thread]) -> None:
        """Stop and join both threads."""
        self.stop.set()
        for thread in threads:
            thread.join(90)


def phase(base: str, keys: tuple[str, str], n: int, args, refresh_env: dict | None) -> dict:
    """Run the load alone for alone-seconds, or while a refresh process runs."""
    load = Load(base, *keys, n, args.pause)
    threads = load.start()
    started = time.perf_counter()
    if refresh_env is None:
        time.sleep(args.alone_seconds)
        took, outcome = None, ""
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "patron", "refresh"],
            env=refresh_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            out, _ = proc.communicate(timeout=args.max_seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        took = time.perf_counter() - started
        outcome = out.decode(errors="replace").strip().splitlines()[:1]
        outcome = (outcome[0] if outcome else "") if proc.returncode == 0 else f"FAILED {out!r}"
    load.finish(threads)
    return {"load": load, "refresh_seconds": took, "refresh": outcome}


def _pct(values: list[float], q: float) -> float:
    """The q-th percentile of values (NaN when empty)."""
    return float(np.percentile(values, q)) if values else float("nan")


def run_backend(backend: str, args, table: Table, console: Console) -> None:
    """Prepare, serve, measure both phases and add the rows."""
    n = args.customers
    console.print(f"{backend}: preparing {n:,} customers and a first refresh ...")
    url, engine = prepare(backend, n, args.pg_url)
    keys = make_keys(engine)
    engine.dispose()
    proc, base = start_server(url, 1)
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": url,
        "PATRON_SECRET_KEY": "bench-secret",
        "PATRON_LOG_LEVEL": "warning",
    }
    try:
        results = [("alone", phase(base, keys, n, args, None))]
        console.print(f"{backend}: measuring during a refresh ...")
        results.append(("during refresh", phase(base, keys, n, args, env)))
    finally:
        proc.terminate()
        proc.wait(30)
    for label, result in results:
        load = result["load"]
        r99, w99 = _pct(load.reads, 99), _pct(load.writes, 99)
        target = ""
        if label != "alone":
            target = "met" if r99 < READ_TARGET_MS and w99 < WRITE_TARGET_MS else "MISSED"
            target += f" (refresh {result['refresh_seconds']:.1f} s)"
        table.add_row(
            backend,
            f"{n:,}",
            label,
            f"{len(load.reads)}",
            f"{_pct(load.reads, 50):.1f}",
            f"{r99:.1f}",
            f"{len(load.writes)}",
            f"{_pct(load.writes, 50):.1f}",
            f"{w99:.1f}",
            f"{len(load.errors)}",
            target,
        )
        for error in load.errors[:3]:
            console.print(f"  {backend} {label} error: {error}")
        if result["refresh"]:
            console.print(f"  {backend} refresh: {result['refresh']}")


def main() -> None:
    """Parse options, run each backend, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--alone-seconds", type=float, default=10.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--pause", type=float, default=0.05, help="Seconds between requests.")
    args = parser.parse_args()
    table = Table(
        title=f"reads and tracking writes beside `patron refresh` (ms; targets during refresh: "
        f"read p99 < {READ_TARGET_MS:.0f}, write p99 < {WRITE_TARGET_MS:.0f})"
    )
    columns = ("backend", "customers", "load", "reads", "read p50", "read p99", "writes")
    for column in (*columns, "write p50", "write p99", "errors", "target"):
        table.add_column(column, justify="left" if column in {"backend", "load"} else "right")
    console = Console(width=170)
    for backend in args.backends.split(","):
        run_backend(backend, args, table, console)
    console.print(table)


if __name__ == "__main__":
    main()
