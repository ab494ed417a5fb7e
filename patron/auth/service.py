"""Use cases of access: create, check and revoke API keys; create and check users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from patron.auth import rules
from patron.auth.tables import ApiKey, User
from patron.db import read_transaction, transaction, utcnow
from patron.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized


def create_key(*, session: Session, name: str, scopes: str, now: datetime) -> tuple[ApiKey, str]:
    """Creates an API key; returns the row and the full key, which is never stored."""
    try:
        parsed = rules.parse_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc))
    key, prefix = rules.new_api_key()
    row = ApiKey(
        name=name or "unnamed",
        prefix=prefix,
        key_hash=rules.hash_api_key(key),
        scopes=",".join(sorted(parsed)),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row, key


def list_keys(*, session: Session) -> list[ApiKey]:
    """Lists API keys, newest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def revoke_key(*, session: Session, key_id: int, now: datetime) -> ApiKey:
    """Revokes an API key so it no longer authenticates."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    row.revoked_at = row.revoked_at or now
    return row


def authenticate_key(*, factory: sessionmaker, key: str, scope: str) -> int:
    """Checks a presented key grants scope; returns its id or raises Unauthorized/Forbidden."""
    prefix = rules.split_key(key)
    if prefix is None:
        raise Unauthorized("the API key is malformed")
    # Checked in a read-only transaction: a request never waits for a writer just to be let in.
    with read_transaction(factory) as session:
        row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None or row.revoked_at is not None or not rules.key_matches(key, row.key_hash):
            raise Unauthorized("the API key is unknown or revoked")
        if not rules.grants(set(row.scopes.split(",")), scope):
            raise Forbidden(f"the API key lacks the {scope!r} scope")
    now = utcnow()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        with transaction(factory) as session:
            session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return row.id


def create_user(
    *, session: Session, email: str, password: str, now: datetime, is_admin: bool = True
) -> User:
    """Creates a dashboard user with a hashed password."""
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters")
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)):
        raise Conflict(f"a user {email} exists already")
    user = User(
        email=email, password_hash=rules.hash_password(password), is_admin=is_admin, created_at=now
    )
    session.add(user)
    session.flush()
    return user


def check_login(*, session: Session, email: str, password: str, now: datetime) -> User:
    """Returns the user whose email and password match, or raises Unauthorized."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not rules.verify_password(password, user.password_hash):
        raise Unauthorized("wrong email or password")
    user.last_login_at = now
    return user


def list_users(*, session: Session) -> list[User]:
    """Lists dashboard users, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def is_admin(*, session: Session, user_id: int) -> bool:
    """Whether the user exists and may administer Patron."""
    return bool(session.scalar(select(User.is_admin).where(User.id == user_id)))
