"""Login throttling stored in the database, so that every server process counts the same attempts.

An attempt is counted *before* the password is checked (one atomic UPDATE ... RETURNING each),
so concurrent guesses cannot all slip under the limit; a successful login takes its count back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patron.auth import rules
from patron.auth.tables import LoginThrottle
from patron.db import UTCDateTime
from patron.errors import PatronError

POLICIES = (rules.ACCOUNT_THROTTLE, rules.ADDRESS_THROTTLE)
PRUNE_AFTER = timedelta(days=1)


class LoginThrottled(PatronError):
    """Too many failed logins for an account or address: wait `retry_after` seconds."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Subjects:
    """Who a login attempt is counted against: the account asked for and the client address."""

    account: str
    address: str

    def of(self, policy: rules.ThrottlePolicy) -> str:
        """The subject a policy counts."""
        return self.account if policy.kind == "account" else self.address


def _ensure_row(session: Session, kind: str, subject: str, now: datetime) -> None:
    """Create the counter of a subject when missing (racing creators are fine)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    row = dict(kind=kind, subject=subject, attempts=0, window_started_at=now)
    session.execute(module.insert(LoginThrottle).values(**row).on_conflict_do_nothing())


def _count_attempt(
    session: Session, policy: rules.ThrottlePolicy, subject: str, now: datetime
) -> tuple[int, datetime]:
    """Add one attempt to a subject's window (a new window when the old one ended)."""
    _ensure_row(session, policy.kind, subject, now)
    ended = LoginThrottle.window_started_at <= now - policy.window
    counted = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.kind == policy.kind, LoginThrottle.subject == subject)
        .values(
            attempts=case((ended, 1), else_=LoginThrottle.attempts + 1),
            window_started_at=case(
                (ended, literal(now, UTCDateTime)), else_=LoginThrottle.window_started_at
            ),
        )
        .returning(LoginThrottle.attempts, LoginThrottle.window_started_at)
    ).one()
    return counted.attempts, counted.window_started_at


def count_attempt(*, session: Session, subjects: Subjects, now: datetime) -> None:
    """Count a login attempt against its account and address; raise LoginThrottled over a limit.

    Commit this before checking the password, so that other processes see the attempt.
    """
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_started_at < now - PRUNE_AFTER)
    )
    refused = None
    for policy in POLICIES:  # always this order: concurrent logins lock rows in the same order
        attempts, started = _count_attempt(session, policy, subjects.of(policy), now)
        if attempts > policy.limit and refused is None:
            refused = (policy, rules.retry_after_seconds(policy, started, now))
    if refused:
        policy, seconds = refused
        raise LoginThrottled(rules.throttle_message(policy, seconds), retry_after=seconds)


def take_back(*, session: Session, subjects: Subjects) -> None:
    """After a successful login: forget the account's failures, take back the address's attempt."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.kind == "account", LoginThrottle.subject == subjects.account
        )
    )
    session.execute(
        update(LoginThrottle)
        .where(
            LoginThrottle.kind == "address",
            LoginThrottle.subject == subjects.address,
            LoginThrottle.attempts > 0,
        )
        .values(attempts=LoginThrottle.attempts - 1)
    )
