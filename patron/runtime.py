"""Process bootstrap shared by the CLI and the server: settings, engine, migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from patron.config import Settings, load_settings
from patron.errors import PatronError
from patron.threads import pin_blas_threads

if TYPE_CHECKING:  # SQLAlchemy and Alembic load on first open_runtime: `analyze` needs neither
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker


@dataclass
class Runtime:
    """What a command needs to do its work: settings, engine and session factory."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Load settings, connect, and (by default) bring the schema up to date."""
    from patron.db import make_engine, make_sessionmaker
    from patron.migrate import upgrade

    settings = settings or load_settings()
    pin_blas_threads(settings.blas_threads)
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine))


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def run_cli(action):
    """Run a CLI action, turning Patron errors into one line and a non-zero exit."""
    try:
        return action()
    except PatronError as exc:
        raise fail(exc.message, 2)
    except (OSError, ValueError) as exc:
        raise fail(str(exc), 2)
