"""Loading the demo shop: every row lands, aggregates are rebuilt, access is prepared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from patron.advocates import service as advocates
from patron.analytics import service as analytics
from patron.app import create_app
from patron.auth import service as auth_service
from patron.cli import app
from patron.customers.tables import AnonymousId, Customer, CustomerStats, Event, Order, OrderLine
from patron.db import transaction, utcnow
from patron.demo import rules, service
from patron.demo.cli import DEMO_EMAIL
from patron.errors import Forbidden, Unauthorized
from patron.journeys import service as journeys
from patron.journeys.playbooks import PLAYBOOKS
from tests.dashboard.conftest import login

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _count(session, table) -> int:
    """Rows in a table."""
    return session.scalar(select(func.count()).select_from(table))


def test_load_writes_the_whole_shop_and_its_aggregates(db):
    shop = rules.generate(seed=3, customers=150, now=NOW)
    with transaction(db.sessions) as s:
        assert not service.is_loaded(session=s)
        summary = service.load_shop(session=s, shop=shop, now=NOW)
    with transaction(db.sessions) as s:
        assert service.is_loaded(session=s)
        assert (
            _count(s, Customer),
            _count(s, Order),
            _count(s, OrderLine),
            _count(s, Event),
            _count(s, AnonymousId),
        ) == (150, len(shop.orders), len(shop.lines), len(shop.events), len(shop.links))
        assert summary.orders == len(shop.orders)
        counted = [o for o in shop.orders if o["status"] not in ("cancelled", "refunded")]
        assert s.scalar(select(func.sum(CustomerStats.order_count))) == len(counted)
        assert s.scalar(select(func.sum(CustomerStats.total_spent_cents))) == sum(
            o["total_cents"] - o["refunded_cents"] for o in counted
        )
        first = shop.customers[0]
        row = s.scalar(select(Customer).where(Customer.external_id == first["external_id"]))
        assert (row.email, row.created_at) == (first["email"], first["created_at"])


def test_access_creates_the_admin_once_and_replaces_the_keys(db):
    with transaction(db.sessions) as s:
        first = service.prepare_access(
            session=s, email="admin@patron.local", password="patron-demo", now=NOW
        )
    with transaction(db.sessions) as s:
        second = service.prepare_access(
            session=s, email="admin@patron.local", password="patron-demo", now=NOW
        )
        user = auth_service.check_login(
            session=s, email="admin@patron.local", password="patron-demo", now=NOW
        )
    assert first.user_created and not second.user_created and user.is_admin
    auth = dict(factory=db.sessions)
    assert auth_service.authenticate_key(**auth, key=second.read_write_key, scope="write")
    assert auth_service.authenticate_key(**auth, key=second.track_key, scope="track")
    with pytest.raises(Forbidden):
        auth_service.authenticate_key(**auth, key=second.track_key, scope="read")
    with pytest.raises(Unauthorized):
        auth_service.authenticate_key(**auth, key=first.read_write_key, scope="read")


def test_demo_command_loads_once_and_prints_the_credentials(sqlite_db, monkeypatch):
    monkeypatch.setenv("PATRON_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("PATRON_SECRET_KEY", "test-secret")
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--no-serve", "--customers", "60", "--seed", "1"])
    assert first.exit_code == 0, first.output
    assert "admin@patron.local" in first.output and "patron-demo" in first.output
    assert "pat_" in first.output and "60 customers" in first.output
    again = runner.invoke(app, ["demo", "--no-serve", "--customers", "60"])
    assert again.exit_code == 0 and "not loading it again" in again.output
    with transaction(sqlite_db.sessions) as s:
        assert _count(s, Customer) == 60
        installed = journeys.list_journeys(session=s)
        assert sorted(j.playbook for j in installed) == sorted(p.name for p in PLAYBOOKS)
        assert {j.state for j in installed} == {"paused"}
    bad = runner.invoke(app, ["demo", "--no-serve", "--customers", "0"])
    assert bad.exit_code != 0 and "error: --customers" in bad.output


def test_demo_fills_the_pages_of_the_marketing_capabilities(sqlite_db, monkeypatch):
    monkeypatch.setenv("PATRON_DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("PATRON_SECRET_KEY", "test-secret")
    loaded = CliRunner().invoke(app, ["demo", "--no-serve", "--customers", "120", "--seed", "2"])
    assert loaded.exit_code == 0, loaded.output
    with transaction(sqlite_db.sessions) as s:
        today = utcnow().date()
        report = analytics.kpi_report(session=s, start=today - timedelta(days=29), end=today)
        nps = next(k["value"] for k in report["kpis"] if k["name"] == "net_promoter_score")
        stars = advocates.ambassadors(session=s)
    assert isinstance(nps, float) and -100 <= nps <= 100
    assert stars and all(a["score"] >= 10 for a in stars)
    shown = {
        "/coupons": ("Demo: welcome 10% off", "Demo: VIP 20% off"),
        "/referrals": ("Leaderboard", "self_referral"),
        "/surveys": ("Demo: how likely are you to recommend us?",),
        "/reviews": ("It is fine",),
        "/gatherings": ("Demo: styling masterclass (webinar)", "Demo: VIP shopping evening"),
        "/ambassadors": (stars[0]["email"],),
    }
    with TestClient(create_app(sqlite_db.settings(), engine=sqlite_db.engine)) as page:
        assert login(page, DEMO_EMAIL, "patron-demo").status_code == 303
        for path, texts in shown.items():
            html = page.get(path)
            assert html.status_code == 200, path
            for text in texts:
                assert text in html.text, (path, text)
            assert "No referrals yet" not in html.text
