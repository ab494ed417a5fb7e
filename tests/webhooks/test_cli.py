"""`patron webhooks list|create|deliveries` on a SQLite file."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from patron.cli import app


@pytest.fixture
def run(tmp_path):
    """Run `patron` against a fresh SQLite file."""
    env = {"PATRON_DATABASE_URL": f"sqlite:///{tmp_path / 'patron.db'}", "PATRON_SECRET_KEY": "x"}
    return lambda *args: CliRunner().invoke(app, [str(a) for a in args], env=env)


def test_create_list_and_deliveries(run):
    created = run("webhooks", "create", "https://example.com/h", "--events", "order.completed")
    assert created.exit_code == 0, created.output
    assert "endpoint 1 created" in created.stdout and "whsec_" in created.stdout
    listing = run("webhooks", "list")
    assert "1\thttps://example.com/h\torder.completed\tenabled" in listing.stdout
    deliveries = run("webhooks", "deliveries", "--endpoint", "1")
    assert deliveries.exit_code == 0 and deliveries.stdout.startswith("id\tendpoint")


def test_bad_input_is_one_line_and_exit_2(run):
    bad = run("webhooks", "create", "ftp://example.com", "--events", "order.completed")
    assert bad.exit_code == 2 and "must start with http" in bad.output
    unknown = run("webhooks", "create", "https://example.com", "--events", "nope")
    assert unknown.exit_code == 2 and "unknown event type nope" in unknown.output
    missing = run("webhooks", "deliveries", "--endpoint", "42")
    assert missing.exit_code == 2 and "no webhook endpoint with id 42" in missing.output
    assert "Traceback" not in bad.output + unknown.output + missing.output
