"""Revocable server-side dashboard sessions: logout, revoking others, password change, expiry."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from patron.app import create_app
from patron.auth import service as auth_service
from patron.auth import sessions
from patron.auth.tables import AuthSession
from patron.db import transaction, utcnow
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login

COOKIE = "patron_session"
_ROW = re.compile(r'data-session="(\d+)"')


@pytest.fixture
def two_browsers(db):
    """Two clients of one app, both logged in as the same user (A first, then B)."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    app = create_app(db.settings(), engine=db.engine)
    with TestClient(app) as a, TestClient(app) as b:
        assert login(a).status_code == 303 and login(b).status_code == 303
        yield a, b


def _logged_in(browser: TestClient) -> bool:
    """Whether the dashboard lets this browser in (instead of sending it to /login)."""
    answer = browser.get("/", follow_redirects=False)
    assert answer.status_code in (200, 303)
    return answer.status_code == 200


def _cookie_data(value: str) -> dict:
    """The JSON inside Starlette's signed session cookie."""
    payload = value.split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_cookie_saved_before_logout_is_refused_after_it(client):
    login(client)
    saved = client.cookies.get(COOKIE)
    page = client.get("/")
    assert page.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    client.cookies.set(COOKIE, saved)
    answer = client.get("/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=/")


def test_the_cookie_carries_a_session_id_and_no_identity(client):
    login(client)
    data = _cookie_data(client.cookies.get(COOKIE))
    assert set(data) <= {"sid", "csrf_token", "flashes"} and data["sid"]
    assert EMAIL not in json.dumps(data)


def test_a_user_sees_and_revokes_another_session(two_browsers):
    a, b = two_browsers
    page = a.get("/account/sessions")
    ids = _ROW.findall(page.text)
    assert len(ids) == 2 and "this session" in page.text
    other = max(ids, key=int)  # B logged in last
    refused = a.post(f"/account/sessions/{other}/revoke", data={}, follow_redirects=False)
    assert refused.status_code == 403 and _logged_in(b)  # no CSRF token, nothing revoked
    token = csrf_of(page.text)
    done = a.post(f"/account/sessions/{other}/revoke", data={"csrf_token": token})
    assert done.status_code == 200 and _ROW.findall(done.text) == [min(ids, key=int)]
    assert not _logged_in(b) and _logged_in(a)


def test_no_one_revokes_a_session_of_another_user(two_browsers, db):
    a, _ = two_browsers
    with transaction(db.sessions) as s:
        other = auth_service.create_user(
            session=s, email="other@example.com", password=PASSWORD, now=factories.T0
        )
        row, _ = sessions.start(
            session=s,
            user_id=other.id,
            lifetime=sessions.Lifetime(12),
            user_agent="x",
            address="",
            now=utcnow(),
        )
        row_id = row.id
    token = csrf_of(a.get("/account/sessions").text)
    assert (
        a.post(f"/account/sessions/{row_id}/revoke", data={"csrf_token": token}).status_code == 404
    )


def test_changing_the_password_logs_out_every_other_session(two_browsers):
    a, b = two_browsers
    token = csrf_of(a.get("/account/sessions").text)
    wrong = {"csrf_token": token, "current_password": "nope", "new_password": "a new secret"}
    assert a.post("/account/password", data=wrong).status_code == 401 and _logged_in(b)
    form = {**wrong, "current_password": PASSWORD}
    answer = a.post("/account/password", data=form)
    assert answer.status_code == 200 and "1 other session logged out" in answer.text
    assert _logged_in(a) and not _logged_in(b)
    assert login(b, password=PASSWORD).status_code == 401
    assert login(b, password="a new secret").status_code == 303


def test_a_session_ends_after_its_hours_and_after_idle_time(db):
    lifetime = sessions.Lifetime(hours=12, idle=timedelta(minutes=120))
    with transaction(db.sessions) as s:
        user = auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        tokens = [
            sessions.start(
                session=s,
                user_id=user.id,
                lifetime=lifetime,
                user_agent="",
                address="",
                now=factories.T0,
            )[1]
            for _ in range(2)
        ]

    def check(token: str, minutes: float):
        now = factories.T0 + timedelta(minutes=minutes)
        return sessions.check(factory=db.sessions, token=token, lifetime=lifetime, now=now)

    idle, busy = tokens
    assert check(idle, 119)["email"] == EMAIL  # seen now: idle time starts again
    assert check(idle, 119 + 119) is not None
    assert check(idle, 119 + 119 + 121) is None  # idle too long
    for minutes in range(100, 12 * 60, 100):  # kept busy, it still ends after 12 hours
        assert check(busy, minutes) is not None
    assert check(busy, 12 * 60) is None


def test_an_expired_or_idle_session_sends_the_browser_to_login(client, db):
    login(client)
    assert _logged_in(client)
    with transaction(db.sessions) as s:
        s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(hours=3)))
    assert not _logged_in(client)  # PATRON_SESSION_IDLE_MINUTES is 120 by default
    login(client)
    with transaction(db.sessions) as s:
        s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert not _logged_in(client)


def test_a_login_drops_the_users_ended_sessions(db):
    lifetime = sessions.Lifetime(hours=1)
    with transaction(db.sessions) as s:
        user = auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)

    def start(hours_later: float) -> None:
        now = factories.T0 + timedelta(hours=hours_later)
        with transaction(db.sessions) as s:
            sessions.start(
                session=s, user_id=user.id, lifetime=lifetime, user_agent="", address="", now=now
            )

    start(0)
    start(0.5)
    start(1.2)  # the first has ended by now, the second not
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(AuthSession)) == 2
