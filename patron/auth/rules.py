"""Pure rules of access: key format, hashing, scopes, passwords, sessions, login throttling."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

SCOPES = ("read", "write", "admin", "track", "shop")
# What each scope grants: admin implies everything, write implies read.
# `shop` is the shop's storefront key (loyalty, coupons, referrals, offers), nothing else.
IMPLIED = {
    "admin": set(SCOPES),
    "write": {"read", "write"},
    "read": {"read"},
    "track": {"track"},
    "shop": {"shop"},
}
KEY_PREFIX = "pat_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def new_api_key() -> tuple[str, str]:
    """Return (full key shown once, its lookup prefix)."""
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def split_key(key: str) -> str | None:
    """Return the lookup prefix of a well-formed key, or None."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX) :].split("_", 1)
    return parts[0] if len(parts) == 2 and len(parts[0]) == 12 else None


def hash_api_key(key: str) -> str:
    """Hash a high-entropy API key (SHA-256 suffices: keys are random, not chosen)."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Compare a presented key with a stored hash in constant time."""
    return hmac.compare_digest(hash_api_key(key), stored_hash)


def parse_scopes(text: str) -> set[str]:
    """Parse a comma-separated scope list, refusing unknown scopes."""
    scopes = {s.strip() for s in text.split(",") if s.strip()}
    unknown = scopes - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {text!r}")
    return scopes


def grants(scopes: set[str], needed: str) -> bool:
    """Whether a set of scopes allows an action needing `needed`."""
    return any(needed in IMPLIED[s] for s in scopes)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Hash a password with scrypt and a random salt."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against its stored scrypt hash."""
    try:
        _, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    expected = hash_password(password, bytes.fromhex(salt_hex)).split("$")[2]
    return hmac.compare_digest(expected, digest_hex)


@cache
def dummy_password_hash() -> str:
    """A scrypt hash of no one's password: checked for unknown emails so they take as long."""
    return hash_password(secrets.token_urlsafe(16))


def new_session_token() -> str:
    """A random session token for the cookie (its hash is what is stored)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Hash a random session token (SHA-256: the token is random, not chosen)."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_is_live(
    *,
    expires_at: datetime,
    last_seen_at: datetime,
    revoked_at: datetime | None,
    now: datetime,
    idle: timedelta | None,
) -> bool:
    """Whether a session still logs its user in: not revoked, not expired, not idle too long."""
    if revoked_at is not None or now >= expires_at:
        return False
    return idle is None or now - last_seen_at < idle


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most `limit` unproven login attempts per `window`, per account or per address."""

    kind: str
    limit: int
    window: timedelta


ACCOUNT_THROTTLE = ThrottlePolicy("account", 5, timedelta(minutes=15))
ADDRESS_THROTTLE = ThrottlePolicy("address", 20, timedelta(minutes=15))


def retry_after_seconds(policy: ThrottlePolicy, window_started_at: datetime, now: datetime) -> int:
    """Whole seconds until the window that locked an account or address ends (at least 1)."""
    return max(1, math.ceil((window_started_at + policy.window - now).total_seconds()))


def throttle_message(policy: ThrottlePolicy, seconds: int) -> str:
    """What a throttled login is told."""
    minutes = max(1, math.ceil(seconds / 60))
    who = "this account" if policy.kind == "account" else "your network address"
    unit = "minute" if minutes == 1 else "minutes"
    return f"too many failed logins for {who}; try again in {minutes} {unit}"
