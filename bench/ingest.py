"""Benchmark of the Segment-compatible tracking API: /v1/batch throughput on loopback.

Starts a real server process (`python -m patron serve`) on a fresh SQLite file and on a fresh
PostgreSQL schema, creates a track key, and posts batches of messages from concurrent client
threads, about 10% of them replays of messages sent before. The mix: ~85% track (~30%
anonymous), 10% page, 4% identify, 0.5% Order Completed. Prints: backend, server workers,
events sent, seconds, events/s, the server's CPU seconds and events per server CPU second
(steadier than wall time on a shared machine; the database server's CPU is not counted),
replays, unique messages, stored events (equal to unique when dedupe works), errors.

    .venv/bin/python bench/ingest.py [--batches 400] [--size 100] [--clients 4] [--workers 1,2]

PostgreSQL: PATRON_BENCH_DATABASE_URL or PATRON_TEST_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); skipped when unreachable.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from sqlalchemy import text

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.migrate import upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_message(rng: random.Random, now: datetime) -> dict:
    """One random message: mostly track and page, some identify, a few orders.

    Each of 5,000 users browses under one anonymous id, so most identifies repeat a link
    made before, as on a real site; a quarter of anonymous traffic is from visitors.
    """
    number = rng.randrange(5000)
    user = f"user-{number}"
    anon = f"anon-{number}" if rng.random() < 0.75 else f"visitor-{rng.randrange(20000)}"
    when = (now - timedelta(seconds=rng.randrange(3600))).isoformat()
    base = {
        "messageId": str(uuid.uuid4()),
        "timestamp": when,
        "context": {"ip": "127.0.0.1", "library": {"name": "bench", "version": "1"}},
    }
    roll = rng.random()
    if roll < 0.04:
        return {
            **base,
            "type": "identify",
            "userId": user,
            "anonymousId": f"anon-{number}",
            "traits": {"email": f"{user}@example.com", "plan": rng.choice(["a", "b"])},
        }
    if roll < 0.045:
        return {
            **base,
            "type": "track",
            "userId": user,
            "event": "Order Completed",
            "properties": {
                "order_id": str(uuid.uuid4()),
                "total": 42.5,
                "currency": "USD",
                "products": [{"sku": "sku-1", "price": 21.25, "quantity": 2}],
            },
        }
    if roll < 0.15:
        return {
            **base,
            "type": "page",
            "anonymousId": anon,
            "name": "Home",
            "properties": {"path": "/", "url": "http://shop.example/"},
        }
    ids = {"userId": user} if roll < 0.75 else {"anonymousId": anon}
    return {
        **base,
        **ids,
        "type": "track",
        "event": rng.choice(["Product Viewed", "Added"]),
        "properties": {"product_id": f"p{rng.randrange(500)}", "price": 9.99},
    }


def make_payloads(
    client: int, batches: int, size: int, replay_share: float
) -> tuple[list[bytes], int, set[str]]:
    """Serialized batches for one client thread; some messages repeat earlier ones."""
    rng, now = random.Random(client), datetime.now(UTC)
    sent: list[dict] = []
    payloads, replays, unique = [], 0, set()
    for _ in range(batches):
        batch = []
        for _ in range(size):
            if sent and rng.random() < replay_share:
                batch.append(rng.choice(sent))
                replays += 1
            else:
                msg = make_message(rng, now)
                batch.append(msg)
                unique.add(msg["messageId"])
        sent.extend(batch)
        payloads.append(orjson.dumps({"batch": batch, "sentAt": now.isoformat()}))
    return payloads, replays, unique


def prepare(url: str, schema: str | None) -> str:
    """Migrate the database and create a track key; returns the key."""
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        _, key = auth_service.create_key(
            session=session, name="bench", scopes="track", now=utcnow()
        )
    engine.dispose()
    return key


def count_events(url: str, schema: str | None) -> int:
    """Number of stored events."""
    engine = make_engine(url, schema=schema)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    return count


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    """Start `patron serve` on a free loopback port; returns (process, base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": url,
        "PATRON_SECRET_KEY": "bench-secret",
        "PATRON_LOG_LEVEL": "warning",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patron",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited at start")
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(p, 0.0) for p in tree)


def post_all(base: str, key: str, payloads: list[bytes], errors: list[str]) -> None:
    """Post payloads one after another on one keep-alive connection."""
    with httpx.Client(
        base_url=base, auth=(key, ""), timeout=60, headers={"Content-Type": "application/json"}
    ) as client:
        for body in payloads:
            response = client.post("/v1/batch", content=body)
            if response.status_code != 200:
                errors.append(f"{response.status_code} {response.text[:200]}")


def run(backend: str, url: str, schema: str | None, workers: int, args) -> dict:
    """One measured run against a fresh database."""
    key = prepare(url, schema)
    plans = [
        make_payloads(c, args.batches // args.clients, args.size, args.replays)
        for c in range(args.clients)
    ]
    proc, base = start_server(url, workers)
    errors: list[str] = []
    try:
        threads = [
            threading.Thread(target=post_all, args=(base, key, plan[0], errors)) for plan in plans
        ]
        cpu_before = server_cpu(proc.pid)
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        cpu = server_cpu(proc.pid) - cpu_before
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    sent = sum(len(plan[0]) for plan in plans) * args.size
    return {
        "backend": backend,
        "workers": workers,
        "events": sent,
        "seconds": seconds,
        "rate": sent / seconds,
        "cpu": cpu,
        "replays": sum(plan[1] for plan in plans),
        "unique": len(set().union(*(plan[2] for plan in plans))),
        "stored": count_events(url, schema),
        "errors": errors,
    }


def pg_schema(url: str) -> str | None:
    """Create a fresh schema for a run; None when PostgreSQL cannot be reached."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
    except Exception as exc:
        print(f"PostgreSQL skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None
    return schema


def drop_schema(url: str, schema: str) -> None:
    """Drop a run's schema."""
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def main() -> None:
    """Run every backend and worker count, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400, help="Batches in all.")
    parser.add_argument("--size", type=int, default=100, help="Messages per batch.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent client threads.")
    parser.add_argument("--workers", default="1,2", help="Server worker counts to try.")
    parser.add_argument("--replays", type=float, default=0.1, help="Share of replays.")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    pg_url = (
        os.environ.get("PATRON_BENCH_DATABASE_URL")
        or os.environ.get("PATRON_TEST_DATABASE_URL")
        or PG_DEFAULT
    )
    results = []
    for backend in args.backends.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            if backend == "sqlite":
                folder = tempfile.mkdtemp(prefix="patron-bench-")
                try:
                    results.append(
                        run(backend, f"sqlite:///{folder}/bench.db", None, workers, args)
                    )
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
                continue
            schema = pg_schema(pg_url)
            if schema is None:
                break
            sep = "&" if "?" in pg_url else "?"
            try:
                results.append(
                    run(
                        backend,
                        f"{pg_url}{sep}options=-csearch_path%3D{schema}",
                        None,
                        workers,
                        args,
                    )
                )
            finally:
                drop_schema(pg_url, schema)
    print_table(results)


def print_table(results: list[dict]) -> None:
    """Print one row per run."""
    head = (
        f"{'backend':<11}{'workers':>8}{'events':>9}{'seconds':>9}{'events/s':>10}"
        f"{'srv cpu s':>10}{'ev/cpu-s':>9}{'replays':>9}{'unique':>8}{'stored':>8}  errors"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r['backend']:<11}{r['workers']:>8}{r['events']:>9}{r['seconds']:>9.2f}"
            f"{r['rate']:>10.0f}{r['cpu']:>10.2f}{r['events'] / max(r['cpu'], 1e-9):>9.0f}"
            f"{r['replays']:>9}{r['unique']:>8}{r['stored']:>8}  "
            f"{len(r['errors'])}{' ' + r['errors'][0] if r['errors'] else ''}"
        )


if __name__ == "__main__":
    main()
