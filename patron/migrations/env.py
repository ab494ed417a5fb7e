"""Alembic environment: runs Patron's migrations on the given connection or URL."""

from alembic import context
from sqlalchemy import pool

from patron.db import make_engine
from patron.schema import metadata

config = context.config


def run() -> None:
    """Run migrations online, in batch mode so SQLite can alter tables."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
        with engine.begin() as conn:
            _run_on(conn)
        return
    _run_on(connection)


def _render_item(type_, obj, autogen_context):
    """Render Patron's custom column types as plain SQLAlchemy types in new revisions."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def _run_on(connection) -> None:
    """Configure the context on a connection and run the migrations in it."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
