"""Settings: every PATRON_* environment variable, with its default and help text."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from patron.errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    """One configurable value: its environment variable, default and help text."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PATRON_DATABASE_URL",
        "sqlite:///patron.db",
        "SQLAlchemy URL of the database; a SQLite file by default, "
        "`postgresql+psycopg://user@host/db` in production.",
    ),
    Setting(
        "PATRON_SECRET_KEY",
        "",
        "Key that signs sessions, CSRF tokens and links; generated into "
        "PATRON_SECRET_FILE on first run when empty.",
    ),
    Setting(
        "PATRON_SECRET_FILE",
        ".patron-secret",
        "File that keeps the generated secret key between runs.",
    ),
    Setting("PATRON_HOST", "127.0.0.1", "Address the web server listens on."),
    Setting("PATRON_PORT", "8000", "Port the web server listens on."),
    Setting("PATRON_LOG_LEVEL", "info", "Log level of the server and worker."),
    Setting("PATRON_WORKER_BATCH", "50", "Jobs a worker claims at once."),
    Setting(
        "PATRON_WORKER_LEASE_SECONDS",
        "300",
        "Seconds a claimed job stays locked before another worker may retry it.",
    ),
    Setting(
        "PATRON_REFRESH_INTERVAL_MINUTES",
        "1440",
        "Minutes between scheduled score refreshes run by the worker; 0 disables.",
    ),
    Setting(
        "PATRON_WORKER_QUEUES",
        "transactional,default,bulk,events",
        "Queues a worker runs, each in its own lane so that one never waits behind another; "
        "`events` feeds the event consumers.",
    ),
    Setting(
        "PATRON_INPROCESS_WORKER",
        "false",
        "Run a worker inside the web server process (the demo does); production runs "
        "`patron worker` processes instead.",
    ),
    Setting(
        "PATRON_JOB_RETENTION_HOURS",
        "168",
        "Hours finished jobs (and their recorded outside effects) are kept before pruning.",
    ),
    Setting(
        "PATRON_EVENT_RETENTION_DAYS",
        "30",
        "Days domain events are kept once every consumer has read them.",
    ),
    Setting(
        "PATRON_PLUGINS",
        "",
        "Extra capabilities to load beside the built-in ones, as comma-separated "
        "`module:manifest` pairs (read once at start-up).",
    ),
    Setting("PATRON_SESSION_HOURS", "12", "Hours a dashboard login lasts."),
    Setting(
        "PATRON_SESSION_IDLE_MINUTES",
        "120",
        "Minutes without a request after which a dashboard login ends; 0 disables.",
    ),
    Setting(
        "PATRON_COOKIE_SECURE",
        "false",
        "Send the dashboard session cookie over HTTPS only (set true behind TLS).",
    ),
    Setting(
        "PATRON_BLAS_THREADS",
        "1",
        "Threads each BLAS library (NumPy/SciPy) may use in the CLI, server and worker; 0 keeps "
        "the library default. One by default: on a shared 2-core machine BLAS threads fight, a "
        "BG/NBD fit on 100k customers took 0.9-4.8 s with default threading and 0.10-0.13 s "
        "with one thread.",
    ),
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
    log_level: str = "info"
    worker_batch: int = 50
    worker_lease_seconds: int = 300
    refresh_interval_minutes: int = 1440
    worker_queues: tuple[str, ...] = ("transactional", "default", "bulk", "events")
    job_retention_hours: int = 168
    inprocess_worker: bool = False
    event_retention_days: int = 30
    session_hours: int = 12
    session_idle_minutes: int = 120
    cookie_secure: bool = False
    blas_threads: int = 1

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.database_url.startswith("sqlite")


def _int(env: dict[str, str], name: str) -> int:
    """Parse an integer setting, naming it when it is not a number."""
    value = _raw(env, name)
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, got {value!r}")


def _names(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Parse a comma-separated list of names, refusing an empty one."""
    names = tuple(n.strip() for n in _raw(env, name).split(",") if n.strip())
    if not names:
        raise InvalidInput(f"{name} must name at least one queue")
    return names


def _flag(value: str) -> bool:
    """Parse a boolean setting."""
    return value.strip().lower() in {"1", "true", "yes", "on"}


def blas_thread_limit(env: dict[str, str] | None = None) -> int:
    """PATRON_BLAS_THREADS alone, for commands that need no other setting (`analyze`)."""
    limit = _int(dict(os.environ if env is None else env), "PATRON_BLAS_THREADS")
    if limit < 0:
        raise InvalidInput(f"PATRON_BLAS_THREADS must be 0 or more, got {limit}")
    return limit


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Build Settings from the environment (or a given mapping) and explicit overrides."""
    env = dict(os.environ if env is None else env)
    secret = _raw(env, "PATRON_SECRET_KEY") or _ensure_secret(Path(_raw(env, "PATRON_SECRET_FILE")))
    values = dict(
        database_url=_raw(env, "PATRON_DATABASE_URL"),
        secret_key=secret,
        host=_raw(env, "PATRON_HOST"),
        port=_int(env, "PATRON_PORT"),
        log_level=_raw(env, "PATRON_LOG_LEVEL"),
        worker_batch=_int(env, "PATRON_WORKER_BATCH"),
        worker_lease_seconds=_int(env, "PATRON_WORKER_LEASE_SECONDS"),
        refresh_interval_minutes=_int(env, "PATRON_REFRESH_INTERVAL_MINUTES"),
        worker_queues=_names(env, "PATRON_WORKER_QUEUES"),
        job_retention_hours=_int(env, "PATRON_JOB_RETENTION_HOURS"),
        inprocess_worker=_flag(_raw(env, "PATRON_INPROCESS_WORKER")),
        event_retention_days=_int(env, "PATRON_EVENT_RETENTION_DAYS"),
        session_hours=_int(env, "PATRON_SESSION_HOURS"),
        session_idle_minutes=_int(env, "PATRON_SESSION_IDLE_MINUTES"),
        cookie_secure=_flag(_raw(env, "PATRON_COOKIE_SECURE")),
        blas_threads=_int(env, "PATRON_BLAS_THREADS"),
    )
    if values["session_idle_minutes"] < 0:
        raise InvalidInput("PATRON_SESSION_IDLE_MINUTES must be 0 (no idle limit) or more")
    if values["blas_threads"] < 0:
        raise InvalidInput("PATRON_BLAS_THREADS must be 0 (library default) or more")
    values.update(overrides)
    return Settings(**values)
