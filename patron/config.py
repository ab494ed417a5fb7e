"""Settings: every PATRON_* environment variable, with its default and help text."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One configurable value: its environment variable, default and help text."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("PATRON_DATABASE_URL", "sqlite:///patron.db",
            "SQLAlchemy URL of the database; a SQLite file by default, "
            "`postgresql+psycopg://user@host/db` in production."),
    Setting("PATRON_SECRET_KEY", "",
            "Key that signs sessions, CSRF tokens and links; generated into "
            "PATRON_SECRET_FILE on first run when empty."),
    Setting("PATRON_SECRET_FILE", ".patron-secret",
            "File that keeps the generated secret key between runs."),
    Setting("PATRON_HOST", "127.0.0.1", "Address the web server listens on."),
    Setting("PATRON_PORT", "8000", "Port the web server listens on."),
    Setting("PATRON_BASE_URL", "",
            "Public URL of this server, used in links inside emails; "
            "defaults to http://HOST:PORT."),
    Setting("PATRON_LOG_LEVEL", "info", "Log level of the server and worker."),
    Setting("PATRON_SMTP_HOST", "127.0.0.1", "SMTP server that sends email."),
    Setting("PATRON_SMTP_PORT", "25", "Port of the SMTP server."),
    Setting("PATRON_SMTP_USER", "", "SMTP login; empty for none."),
    Setting("PATRON_SMTP_PASSWORD", "", "SMTP password; empty for none."),
    Setting("PATRON_SMTP_STARTTLS", "false", "Use STARTTLS with the SMTP server."),
    Setting("PATRON_MAIL_FROM", "Patron <patron@localhost>", "From address of emails."),
    Setting("PATRON_WORKER_BATCH", "50", "Jobs a worker claims at once."),
    Setting("PATRON_WORKER_LEASE_SECONDS", "300",
            "Seconds a claimed job stays locked before another worker may retry it."),
    Setting("PATRON_REFRESH_INTERVAL_MINUTES", "1440",
            "Minutes between scheduled score refreshes run by the worker; 0 disables."),
    Setting("PATRON_SESSION_HOURS", "12", "Hours a dashboard login lasts."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _raw(env: dict[str, str], name: str) -> str:
    """Return the value of a setting from env, or its default."""
    return env.get(name, _BY_NAME[name].default)


def _ensure_secret(path: Path) -> str:
    """Read the stored secret key, creating it on first run."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one Patron process."""

    database_url: str
    secret_key: str
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""
    log_level: str = "info"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Patron <patron@localhost>"
    worker_batch: int = 50
    worker_lease_seconds: int = 300
    refresh_interval_minutes: int = 1440
    session_hours: int = 12
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        """Base URL used for links in messages."""
        return self.base_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.database_url.startswith("sqlite")


def _flag(value: str) -> bool:
    """Parse a boolean setting."""
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Build Settings from the environment (or a given mapping) and explicit overrides."""
    env = dict(os.environ if env is None else env)
    secret = _raw(env, "PATRON_SECRET_KEY") or _ensure_secret(
        Path(_raw(env, "PATRON_SECRET_FILE")))
    values = dict(
        database_url=_raw(env, "PATRON_DATABASE_URL"),
        secret_key=secret,
        host=_raw(env, "PATRON_HOST"),
        port=int(_raw(env, "PATRON_PORT")),
        base_url=_raw(env, "PATRON_BASE_URL"),
        log_level=_raw(env, "PATRON_LOG_LEVEL"),
        smtp_host=_raw(env, "PATRON_SMTP_HOST"),
        smtp_port=int(_raw(env, "PATRON_SMTP_PORT")),
        smtp_user=_raw(env, "PATRON_SMTP_USER"),
        smtp_password=_raw(env, "PATRON_SMTP_PASSWORD"),
        smtp_starttls=_flag(_raw(env, "PATRON_SMTP_STARTTLS")),
        mail_from=_raw(env, "PATRON_MAIL_FROM"),
        worker_batch=int(_raw(env, "PATRON_WORKER_BATCH")),
        worker_lease_seconds=int(_raw(env, "PATRON_WORKER_LEASE_SECONDS")),
        refresh_interval_minutes=int(_raw(env, "PATRON_REFRESH_INTERVAL_MINUTES")),
        session_hours=int(_raw(env, "PATRON_SESSION_HOURS")),
    )
    values.update(overrides)
    return Settings(**values)
