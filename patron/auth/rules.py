"""Pure rules of access: key format, hashing, scopes, password hashing."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCOPES = ("read", "write", "admin", "track")
# What each scope grants: admin implies everything, write implies read.
IMPLIED = {"admin": set(SCOPES), "write": {"read", "write"}, "read": {"read"}, "track": {"track"}}
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
