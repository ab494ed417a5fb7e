"""Worker processes deliver to a real receiver; one is SIGKILLed: every event arrives, repeats
carry the same webhook-id, so deduping by id yields each event exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from patron.db import transaction, utcnow
from patron.events import service as events
from patron.events.types import event
from patron.webhooks import service
from patron.webhooks.tables import WebhookDelivery

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 40
KILL_AT = 8


def _start_worker(db, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": db.url,
        "PATRON_SECRET_KEY": "k",
        "PATRON_WORKER_BATCH": "4",
        "PATRON_WORKER_LEASE_SECONDS": "3",
        "PATRON_REFRESH_INTERVAL_MINUTES": "0",
        "PATRON_WEBHOOK_TIMEOUT_SECONDS": "5",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patron",
            "worker",
            "--poll",
            "0.1",
            "--exit-when-idle",
            "100",
            "--worker-id",
            name,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _owner_of(client_port: int, workers: list[subprocess.Popen]) -> subprocess.Popen:
    """The worker process whose socket has this local port (Linux /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == client_port:
            inodes.add(fields[9])
    for worker in workers:
        for fd in Path(f"/proc/{worker.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return worker
    raise AssertionError(f"no worker holds the connection from port {client_port}")


def _succeeded(db) -> int:
    with transaction(db.sessions) as s:
        states = s.scalars(select(WebhookDelivery.state)).all()
    return sum(1 for state in states if state == "succeeded")


def test_killed_worker_loses_no_webhook_and_repeats_keep_their_id(db, receiver):
    # The 8th request is answered slowly: its sender is killed after the POST arrived and
    # before it could record it, the case where only a repeat (same webhook-id) loses nothing.
    receiver.respond = lambda n, r: (200, 3.0 if n == KILL_AT else 0.05)
    now = utcnow()
    with transaction(db.sessions) as s:
        endpoint = service.create_endpoint(
            session=s,
            url=f"{receiver.url}/hook",
            event_types=["order.completed"],
            now=now - timedelta(minutes=1),
        )
        events.append(
            s, [event("order.completed", i, order=f"o{i}") for i in range(EVENTS)], now=now
        )
    workers = [_start_worker(db, f"w{i}") for i in range(3)]
    try:
        deadline = time.monotonic() + 180  # a loaded machine starts three workers slowly
        while len(receiver.requests) < KILL_AT and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.requests) >= KILL_AT, "the workers delivered too little"
        in_flight = receiver.requests[KILL_AT - 1]
        _owner_of(in_flight.client_port, workers).send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 90
        while _succeeded(db) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for w in workers:
            w.kill()
            w.wait()
    bodies_by_id: dict[str, set[bytes]] = defaultdict(set)
    for request in receiver.to("/hook"):
        bodies_by_id[request.headers["webhook-id"]].add(request.body)
    assert len(bodies_by_id) == EVENTS  # deduped by webhook-id: exactly the 40
    assert all(len(bodies) == 1 for bodies in bodies_by_id.values())  # a repeat is the same
    orders = sorted(json.loads(next(iter(b)))["data"]["order"] for b in bodies_by_id.values())
    assert orders == sorted(f"o{i}" for i in range(EVENTS))
    with transaction(db.sessions) as s:
        rows = s.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
        rows = list(rows)
    assert len(rows) == EVENTS and {r.state for r in rows} == {"succeeded"}
    assert {r.delivery_id for r in rows} == set(bodies_by_id)
    assert receiver.ids().count(in_flight.headers["webhook-id"]) >= 2  # sent again, same id
    repeats = len(receiver.to("/hook")) - EVENTS
    print(f"{db.backend}: {len(receiver.requests)} POSTs for {EVENTS} events ({repeats} repeats)")
