"""journeys: a partial index of live enrolments by due time, for the engine's claim

Revision ID: 0630
Revises: 0620
Create Date: 2026-12-02 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0630"
down_revision = "0620"
branch_labels = None
depends_on = None

LIVE = "state IN ('active', 'waiting')"


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        "ix_journey_enrolments_live_due",
        "journey_enrolments",
        ["due_at"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_journey_enrolments_live_due", table_name="journey_enrolments")
