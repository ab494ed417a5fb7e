"""journeys: journeys, versions, enrolments (one live per journey and customer), step runs

Revision ID: 0600
Revises: 0520
Create Date: 2026-12-02 06:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0600"
down_revision = "0520"
branch_labels = None
depends_on = None

LIVE = "state IN ('active', 'waiting')"


def _id_type():
    """BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "journeys",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_version_id", sa.BigInteger(), nullable=True),
        sa.Column("playbook", sa.String(length=64), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journeys")),
        sa.UniqueConstraint("name", name=op.f("uq_journeys_name")),
    )
    op.create_table(
        "journey_versions",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("journey_id", _id_type(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", JSONType, nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_versions_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_versions")),
        sa.UniqueConstraint("journey_id", "number", name=op.f("uq_journey_versions_journey_id")),
    )
    op.create_table(
        "journey_enrolments",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("journey_id", _id_type(), nullable=False),
        sa.Column("version_id", _id_type(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        _at("due_at", True),
        sa.Column("iteration", sa.Integer(), nullable=False),
        _at("entered_at"),
        sa.Column("entered_position", sa.BigInteger(), nullable=True),
        _at("step_entered_at", True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("exit_reason", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        _at("lease_until", True),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        _at("finished_at", True),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
            name=op.f("fk_journey_enrolments_journey_id_journeys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["journey_versions.id"],
            name=op.f("fk_journey_enrolments_version_id_journey_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_enrolments")),
    )
    op.create_index(
        "uq_journey_enrolments_live",
        "journey_enrolments",
        ["journey_id", "customer_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index("ix_journey_enrolments_due", "journey_enrolments", ["state", "due_at"])
    op.create_index(
        "ix_journey_enrolments_customer", "journey_enrolments", ["customer_id", "journey_id"]
    )
    op.create_table(
        "journey_step_runs",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("enrolment_id", _id_type(), nullable=False),
        sa.Column("version_id", sa.BigInteger(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("detail", JSONType, nullable=True),
        _at("at"),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["journey_enrolments.id"],
            name=op.f("fk_journey_step_runs_enrolment_id_journey_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_step_runs")),
        sa.UniqueConstraint(
            "version_id",
            "step_id",
            "enrolment_id",
            "iteration",
            name=op.f("uq_journey_step_runs_version_id"),
        ),
    )
    op.create_index("ix_journey_step_runs_enrolment", "journey_step_runs", ["enrolment_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("journey_step_runs")
    op.drop_table("journey_enrolments")
    op.drop_table("journey_versions")
    op.drop_table("journeys")
