"""Use cases of dashboard sessions: start, check, list and revoke server-side session rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from patron.auth import rules
from patron.auth.tables import AuthSession, User
from patron.db import read_transaction, transaction
from patron.errors import NotFound

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is rewritten at most once a minute


@dataclass(frozen=True)
class Lifetime:
    """How long a session lasts: `hours` after login, `idle` without a request (None: no limit)."""

    hours: int
    idle: timedelta | None = None


def start(
    *,
    session: Session,
    user_id: int,
    lifetime: Lifetime,
    user_agent: str,
    address: str,
    now: datetime,
) -> tuple[AuthSession, str]:
    """Record a new session; returns the row and the token for the cookie (never stored)."""
    # The user's ended sessions are dropped here, so the table holds only live and recent rows.
    ended = (AuthSession.user_id == user_id, AuthSession.expires_at < now)
    session.execute(delete(AuthSession).where(*ended))
    token = rules.new_session_token()
    row = AuthSession(
        token_hash=rules.hash_token(token),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=lifetime.hours),
        user_agent=user_agent[:255],
        address=address[:64],
    )
    session.add(row)
    session.flush()
    return row, token


def _live(row: AuthSession, lifetime: Lifetime, now: datetime) -> bool:
    """Whether a session row still logs its user in."""
    return rules.session_is_live(
        expires_at=row.expires_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
        now=now,
        idle=lifetime.idle,
    )


def check(*, factory: sessionmaker, token: str, lifetime: Lifetime, now: datetime) -> dict | None:
    """The identity a cookie's token logs in ({id, email, session_id}), or None."""
    with read_transaction(factory) as session:
        found = session.execute(
            select(AuthSession, User.email)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == rules.hash_token(token))
        ).one_or_none()
        if found is None or not _live(found[0], lifetime, now):
            return None
        row, email = found
        identity = {"id": row.user_id, "email": email, "session_id": row.id}
        stale = now - row.last_seen_at >= TOUCH_EVERY
    if stale:
        with transaction(factory) as session:
            session.execute(
                update(AuthSession)
                .where(AuthSession.id == identity["session_id"])
                .values(last_seen_at=now)
            )
    return identity


def revoke(*, session: Session, session_id: int, now: datetime, user_id: int | None = None) -> None:
    """Revoke one session (only the given user's, when user_id is given)."""
    row = session.get(AuthSession, session_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFound(f"session {session_id} does not exist")
    row.revoked_at = row.revoked_at or now


def revoke_all(*, session: Session, user_id: int, now: datetime, keep: int | None = None) -> int:
    """Revoke every live session of a user but `keep`; returns how many were revoked."""
    query = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    return session.execute(query.values(revoked_at=now)).rowcount


def list_live(
    *, session: Session, user_id: int, lifetime: Lifetime, now: datetime
) -> list[AuthSession]:
    """A user's sessions that still log in, most recently seen first."""
    rows = session.scalars(
        select(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
    )
    return [row for row in rows if _live(row, lifetime, now)]
