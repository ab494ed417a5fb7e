"""event log and consumer cursors; job queues, priorities, active-only dedupe, outside effects

Revision ID: 0100
Revises: 0030
Create Date: 2026-12-01 21:30:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0100"
down_revision = "0030"
branch_labels = None
depends_on = None

ACTIVE = "state IN ('pending', 'running')"


def _id_type():
    """BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "domain_events",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("tx", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_events")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_domain_events_seq", "domain_events", ["seq"], unique=True)
    op.create_index("ix_domain_events_tx", "domain_events", ["tx"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE domain_events_seq")
    op.create_index("ix_domain_events_occurred_at", "domain_events", ["occurred_at"])
    op.create_table(
        "event_consumers",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("handled", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_consumers")),
    )
    op.create_table(
        "job_effects",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", JSONType, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_job_effects")),
    )
    op.create_table(
        "job_schedules",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("last_slot", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_job_schedules")),
    )
    op.create_index("ix_job_effects_job_id", "job_effects", ["job_id"])
    op.create_index("ix_job_effects_finished_at", "job_effects", ["finished_at"])
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue", sa.String(length=32), nullable=False, server_default="default")
        )
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_constraint("uq_jobs_dedupe_key", type_="unique")
        batch_op.drop_index("ix_jobs_due")
        batch_op.create_index("ix_jobs_due", ["queue", "state", "priority", "run_at"])
        batch_op.create_index("ix_jobs_finished_at", ["finished_at"])
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column("queue", server_default=None)
        batch_op.alter_column("priority", server_default=None)
    op.create_index(
        "uq_jobs_active_dedupe_key",
        "jobs",
        ["dedupe_key"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_jobs_active_dedupe_key", table_name="jobs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_finished_at")
        batch_op.drop_index("ix_jobs_due")
        batch_op.create_index("ix_jobs_due", ["state", "run_at"])
        batch_op.create_unique_constraint("uq_jobs_dedupe_key", ["dedupe_key"])
        batch_op.drop_column("priority")
        batch_op.drop_column("queue")
    op.drop_table("job_schedules")
    op.drop_table("job_effects")
    op.drop_table("event_consumers")
    op.drop_table("domain_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE domain_events_seq")
