"""Every capability's tables, imported together so the metadata (and Alembic) sees them all."""

from patron.analytics import tables as analytics_tables
from patron.auth import tables as auth_tables
from patron.customers import tables as customers_tables
from patron.db import Base
from patron.jobs import tables as jobs_tables
from patron.segments import tables as segments_tables

metadata = Base.metadata

__all__ = [
    "analytics_tables",
    "auth_tables",
    "customers_tables",
    "jobs_tables",
    "metadata",
    "segments_tables",
]
