"""Use cases of logging in and out: throttled, equal-time password checks that start sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from patron.auth import rules, sessions, throttle
from patron.auth.tables import User
from patron.db import transaction
from patron.errors import InvalidInput, Unauthorized

WRONG = "wrong email or password"


def _password_matches(user: User | None, password: str) -> bool:
    """Check a password; an unknown user costs one scrypt too, so timing does not tell."""
    if user is None:
        rules.verify_password(password, rules.dummy_password_hash())
        return False
    return rules.verify_password(password, user.password_hash)


def log_in(
    *,
    factory: sessionmaker,
    email: str,
    password: str,
    address: str,
    user_agent: str,
    lifetime: sessions.Lifetime,
    now: datetime,
) -> tuple[dict, str]:
    """Check credentials and start a session; returns (identity, cookie token).

    Raises LoginThrottled (429) over a limit, even for the right password, else Unauthorized.
    """
    account = email.strip().lower()
    subjects = throttle.Subjects(account=account[:320], address=address[:320])
    with transaction(factory) as session:
        throttle.count_attempt(session=session, subjects=subjects, now=now)
    with transaction(factory) as session:
        user = session.scalar(select(User).where(User.email == account))
        if not _password_matches(user, password):
            raise Unauthorized(WRONG)
        user.last_login_at = now
        throttle.take_back(session=session, subjects=subjects)
        row, token = sessions.start(
            session=session,
            user_id=user.id,
            lifetime=lifetime,
            user_agent=user_agent,
            address=address,
            now=now,
        )
        return {"id": user.id, "email": user.email, "session_id": row.id}, token


def log_out(*, factory: sessionmaker, session_id: int, now: datetime) -> None:
    """Revoke the session at once: a copy of its cookie no longer logs in."""
    with transaction(factory) as session:
        sessions.revoke(session=session, session_id=session_id, now=now)


def change_password(
    *,
    session: Session,
    user_id: int,
    current: str,
    new: str,
    now: datetime,
    keep_session: int | None = None,
) -> int:
    """Set a new password and revoke every other session; returns how many were revoked."""
    user = session.get(User, user_id)
    if user is None or not rules.verify_password(current, user.password_hash):
        raise Unauthorized("the current password is wrong")
    if len(new) < 8:
        raise InvalidInput("the new password must have at least 8 characters")
    user.password_hash = rules.hash_password(new)
    return sessions.revoke_all(session=session, user_id=user_id, now=now, keep=keep_session)
