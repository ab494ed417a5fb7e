"""journey triggers and effects: scheduled occurrences, webhook calls, team notifications

Revision ID: 0620
Revises: 0605
Create Date: 2026-12-02 06:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0620"
down_revision = "0605"
branch_labels = None
depends_on = None


def _id_type():
    """BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("journey_enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("occurrence", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "uq_journey_enrolments_occurrence",
            ["journey_id", "customer_id", "occurrence"],
            unique=True,
        )
    op.create_table(
        "journey_webhook_calls",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("enrolment_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at", True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("finished_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_webhook_calls")),
        sa.UniqueConstraint("key", name=op.f("uq_journey_webhook_calls_key")),
    )
    op.create_index(
        "ix_journey_webhook_calls_state", "journey_webhook_calls", ["state", "next_attempt_at"]
    )
    op.create_table(
        "journey_notifications",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_journey_notifications_key")),
    )
    op.create_index("ix_journey_notifications_created", "journey_notifications", ["created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("journey_notifications")
    op.drop_table("journey_webhook_calls")
    with op.batch_alter_table("journey_enrolments", schema=None) as batch_op:
        batch_op.drop_index("uq_journey_enrolments_occurrence")
        batch_op.drop_column("occurrence")
