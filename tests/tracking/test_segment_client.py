"""Compatibility: Segment's own Python library talks to a real Patron server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from segment.analytics.client import Client
from sqlalchemy import select

from patron.customers import service as customers
from patron.customers.tables import Event
from patron.db import transaction
from tests.tracking.conftest import make_key


def _free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(db, tmp_path):
    """A uvicorn process serving Patron on the test database; always killed at the end."""
    port = _free_port()
    env = {**os.environ, "PATRON_DATABASE_URL": db.url, "PATRON_SECRET_KEY": "test-secret"}
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "patron.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                httpx.get(base + "/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start in 90 s"
                time.sleep(0.1)
        yield base
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def test_segment_analytics_python_delivers_identify_track_and_orders(db, server):
    errors, key = [], make_key(db)
    plain, zipped = (
        Client(
            write_key=key,
            host=server,
            gzip=gzip,
            max_retries=1,
            on_error=lambda exc, batch: errors.append(exc),
        )
        for gzip in (False, True)
    )
    plain.identify(
        "user-7",
        {"email": "seven@example.com", "firstName": "Sev", "plan": "gold"},
        anonymous_id="anon-7",
    )
    plain.shutdown()
    zipped.track(
        "user-7",
        "Product Viewed",
        {"product_id": "p1"},
        timestamp=datetime(2025, 5, 1, 9, 30, tzinfo=UTC),
    )
    zipped.track(
        anonymous_id="anon-7",
        event="Order Completed",
        properties={
            "order_id": "S-100",
            "total": 30.5,
            "currency": "USD",
            "products": [{"product_id": "p1", "sku": "SKU-1", "price": 15.25, "quantity": 2}],
        },
    )
    zipped.shutdown()
    assert errors == []
    with transaction(db.sessions) as session:
        customer = customers.find_customer(session=session, external_id="user-7")
        [order] = customers.list_orders(session=session)
        events = session.execute(
            select(Event.type, Event.name, Event.customer_id, Event.occurred_at).order_by(
                Event.type
            )
        ).all()
    assert (customer.email, customer.first_name, customer.attributes) == (
        "seven@example.com",
        "Sev",
        {"plan": "gold"},
    )
    assert (order.customer_id, order.total_cents, len(order.lines)) == (customer.id, 3050, 1)
    assert sorted((e.type, e.name or "", e.customer_id) for e in events) == [
        ("identify", "", customer.id),
        ("track", "Order Completed", customer.id),
        ("track", "Product Viewed", customer.id),
    ]
    # The client's timestamp, corrected by its sentAt: the clocks agree, so it is kept.
    [viewed] = [e.occurred_at for e in events if e.name == "Product Viewed"]
    assert abs(viewed - datetime(2025, 5, 1, 9, 30, tzinfo=UTC)) < timedelta(seconds=30)
