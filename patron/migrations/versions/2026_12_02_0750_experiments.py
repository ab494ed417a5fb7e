"""experiments: experiments with their arms, and one exposure row per customer

Revision ID: 0750
Revises: 0630
Create Date: 2026-12-02 07:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0750"
down_revision = "0740"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "experiments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("arms", JSONType, nullable=False),
        sa.Column("holdout_percent", sa.Integer(), nullable=False),
        sa.Column("test_percent", sa.Integer(), nullable=False),
        sa.Column("decide_after_hours", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("segment_ids", JSONType, nullable=False),
        sa.Column("exclude_segment_ids", JSONType, nullable=False),
        sa.Column("journey_id", sa.BigInteger(), nullable=True),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("holdout_branch", sa.Integer(), nullable=True),
        sa.Column("winner", sa.String(length=32), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        _at("created_at"),
        _at("started_at", True),
        _at("decided_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    )
    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        _at("exposed_at"),
        _at("window_ends_at"),
        _at("pre_starts_at"),
        sa.PrimaryKeyConstraint(
            "experiment_id", "customer_id", name=op.f("pk_experiment_exposures")
        ),
    )
    op.create_index("ix_experiment_exposures_arm", "experiment_exposures", ["experiment_id", "arm"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_experiment_exposures_arm", table_name="experiment_exposures")
    op.drop_table("experiment_exposures")
    op.drop_table("experiments")
