"""The builder page in a real Chromium against a real server: compose, see the count, save."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from patron.segments.tables import Segment, SegmentMembership
from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database(tmp_path) -> str:
    """A migrated SQLite file with a user and customers: c0..c5, c2..c5 with two orders."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        for i in range(6):
            factories.customer(s, f"c{i}", email=f"c{i}@example.com")
            for n in range(2 if i >= 2 else i):
                factories.order(s, f"o{i}-{n}", f"c{i}", days=-n)
    engine.dispose()
    return url


@pytest.fixture
def server(database, tmp_path):
    """`uvicorn patron.asgi:app` on a free loopback port; always stopped afterwards."""
    port = _free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": database,
        "PATRON_SECRET_KEY": "browser-test",
        "PATRON_LOG_LEVEL": "warning",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "patron.asgi:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_compose_a_rule_see_the_count_and_save(database, server):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{server}/segments/new")
            page.fill("input[name=email]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_selector("[data-testid=builder]")
            page.click("[data-testid=add-condition]")
            condition = page.locator("[data-testid=condition]").first
            condition.locator("[data-testid=field]").select_option("purchase.order_count")
            condition.locator("[data-param=op]").select_option("gte")
            condition.locator("[data-param=value]").fill("2")
            expect(page.locator("[data-testid=count]")).to_have_text("4")
            expect(page.locator("[data-testid=preview] tbody tr")).to_have_count(4)
            expect(page.locator("[data-testid=preview]")).to_contain_text("Orders ≥ 2")
            condition.locator("[data-param=value]").fill("1")
            expect(page.locator("[data-testid=count]")).to_have_text("5")
            page.fill("#segment-name", "Repeat buyers")
            page.click("[data-testid=save]")
            page.wait_for_url(re.compile(r".*/segments/\d+$"))
            expect(page.locator(".flash")).to_contain_text("5 members")
            expect(page.locator("[data-param=value]")).to_have_value("1")
        finally:
            browser.close()
    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        segment = s.scalar(select(Segment).where(Segment.name == "Repeat buyers"))
        assert segment.rules["children"][0] == {
            "type": "purchase",
            "field": "order_count",
            "op": "gte",
            "value": 1,
        }
        members = s.scalars(
            select(SegmentMembership.customer_id).where(SegmentMembership.segment_id == segment.id)
        ).all()
        assert len(members) == 5
    engine.dispose()
