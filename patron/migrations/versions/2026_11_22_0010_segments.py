"""segments, memberships and their changes

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-22 20:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "rules", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("builtin_key", sa.String(length=64), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("builtin_key", name=op.f("uq_segments_builtin_key")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "segment_memberships",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "customer_id", name=op.f("pk_segment_memberships")),
    )
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.create_index("ix_segment_memberships_customer", ["customer_id"], unique=False)

    op.create_table(
        "segment_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_changes")),
    )
    with op.batch_alter_table("segment_changes", schema=None) as batch_op:
        batch_op.create_index("ix_segment_changes_customer", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_segment_changes_segment_time", ["segment_id", "changed_at"], unique=False
        )

    # Indexes on customers' tables that segment conditions need (see segments/tables.py).
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_name_time", ["name", "occurred_at", "customer_id"], unique=False
        )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_lines_category", ["category", "order_id"], unique=False)
        batch_op.create_index("ix_order_lines_sku", ["sku", "order_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lines_sku")
        batch_op.drop_index("ix_order_lines_category")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_name_time")

    with op.batch_alter_table("segment_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_changes_segment_time")
        batch_op.drop_index("ix_segment_changes_customer")

    op.drop_table("segment_changes")
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_memberships_customer")

    op.drop_table("segment_memberships")
    op.drop_table("segments")
