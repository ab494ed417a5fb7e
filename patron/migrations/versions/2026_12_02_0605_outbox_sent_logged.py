"""messages: outbox rows record whether their message.sent event is logged

Revision ID: 0605
Revises: 0600
Create Date: 2026-12-02 06:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0605"
down_revision = "0600"
branch_labels = None
depends_on = None

UNLOGGED = "sent_at IS NOT NULL AND NOT sent_logged"


def upgrade() -> None:
    """Add the flag (rows sent before it count as logged) and its partial index."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("sent_logged", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE outbox SET sent_logged = TRUE WHERE sent_at IS NOT NULL")
    op.create_index(
        "ix_outbox_sent_unlogged",
        "outbox",
        ["id"],
        sqlite_where=sa.text(UNLOGGED),
        postgresql_where=sa.text(UNLOGGED),
    )


def downgrade() -> None:
    """Drop the index and the flag."""
    op.drop_index("ix_outbox_sent_unlogged", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("sent_logged")
