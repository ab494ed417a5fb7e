"""Login throttling per account and per address, stored in the database; equal-time answers."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta

import pytest

from patron.auth import login as auth_login
from patron.auth import service as auth_service
from patron.auth.sessions import Lifetime
from patron.auth.throttle import LoginThrottled
from patron.db import transaction
from patron.errors import Unauthorized
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, login

LIFETIME = Lifetime(hours=12, idle=timedelta(hours=2))


def _attempt(db, password: str, *, email: str = EMAIL, address: str = "10.0.0.1", now=None):
    """One login through the use case at a chosen time; returns the outcome's class name."""
    try:
        auth_login.log_in(
            factory=db.sessions,
            email=email,
            password=password,
            address=address,
            user_agent="test",
            lifetime=LIFETIME,
            now=now or factories.T0,
        )
    except (Unauthorized, LoginThrottled) as exc:
        return type(exc).__name__
    return "ok"


@pytest.fixture
def user(db):
    """The one dashboard user."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)


def test_50_wrong_passwords_are_throttled_after_5_and_then_the_right_one_too(client):
    answers = [login(client, password=f"wrong {i}") for i in range(50)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    last = answers[-1]
    assert "too many failed logins for this account" in last.text
    assert 0 < int(last.headers["Retry-After"]) <= 15 * 60
    right = login(client)
    assert right.status_code == 429 and "try again in" in right.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_lock_expires_after_its_window(db, user):
    t0 = factories.T0
    assert [_attempt(db, "wrong", now=t0) for _ in range(5)] == ["Unauthorized"] * 5
    assert _attempt(db, PASSWORD, now=t0 + timedelta(minutes=14)) == "LoginThrottled"
    assert _attempt(db, PASSWORD, now=t0 + timedelta(minutes=15, seconds=1)) == "ok"


def test_a_successful_login_forgets_the_accounts_failures(db, user):
    assert [_attempt(db, "wrong") for _ in range(4)] == ["Unauthorized"] * 4
    assert _attempt(db, PASSWORD) == "ok"
    assert [_attempt(db, "wrong") for _ in range(5)] == ["Unauthorized"] * 5
    assert _attempt(db, PASSWORD) == "LoginThrottled"


def test_one_address_trying_many_accounts_is_throttled_after_20(db, user):
    outcomes = [_attempt(db, "wrong", email=f"guess{i}@example.com") for i in range(20)]
    assert outcomes == ["Unauthorized"] * 20
    with pytest.raises(LoginThrottled, match="your network address") as refused:
        auth_login.log_in(
            factory=db.sessions,
            email=EMAIL,
            password=PASSWORD,
            address="10.0.0.1",
            user_agent="t",
            lifetime=LIFETIME,
            now=factories.T0,
        )
    assert refused.value.retry_after == 15 * 60
    assert _attempt(db, PASSWORD, address="10.0.0.2") == "ok"  # another address is not locked


def test_unknown_emails_are_throttled_like_known_ones(db, user):
    outcomes = [_attempt(db, "wrong", email="nobody@example.com") for _ in range(6)]
    assert outcomes == ["Unauthorized"] * 5 + ["LoginThrottled"]


def test_known_and_unknown_emails_take_about_as_long(client):
    def took(email: str) -> float:
        start = time.perf_counter()
        answer = login(client, email=email, password="not the password")
        assert answer.status_code == 401
        return time.perf_counter() - start

    known, unknown = [], []
    for i in range(5):  # interleaved, under both limits (5 per account, 20 per address)
        known.append(took(EMAIL))
        unknown.append(took(f"nobody{i}@example.com"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2, (known, unknown)


def test_concurrent_guesses_cannot_slip_past_the_limit(pg_db):
    with transaction(pg_db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    start, outcomes = threading.Barrier(20), []

    def guess(i: int) -> None:
        start.wait()
        outcomes.append(_attempt(pg_db, f"wrong {i}", address=f"10.0.1.{i}"))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["LoginThrottled"] * 15 + ["Unauthorized"] * 5
