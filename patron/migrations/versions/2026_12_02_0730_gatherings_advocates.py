"""gatherings (events, invitations) and advocates (credits, community activity and members)

Revision ID: 0730
Revises: 0630
Create Date: 2026-12-02 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0730"
down_revision = "0720"
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
    op.create_table(
        "gatherings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _at("starts_at"),
        _at("ends_at"),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("online_url", sa.String(length=2048), nullable=True),
        sa.Column("place", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("waitlist", sa.Boolean(), nullable=False),
        sa.Column("going", sa.Integer(), nullable=False),
        sa.Column("invite_template_id", sa.BigInteger(), nullable=True),
        sa.Column("reminder_template_id", sa.BigInteger(), nullable=True),
        _at("cancelled_at", True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gatherings")),
    )
    op.create_index(op.f("ix_gatherings_starts_at"), "gatherings", ["starts_at"])
    op.create_table(
        "gathering_invitations",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("gathering_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=True),
        _at("invited_at"),
        _at("answered_at", True),
        _at("waitlisted_at", True),
        _at("attended_at", True),
        sa.Column("attendance_source", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gathering_invitations")),
        sa.UniqueConstraint("gathering_id", "customer_id", name="uq_gathering_invitations_guest"),
    )
    op.create_index(
        op.f("ix_gathering_invitations_customer_id"), "gathering_invitations", ["customer_id"]
    )
    op.create_index(
        "ix_gathering_invitations_status",
        "gathering_invitations",
        ["gathering_id", "status", "waitlisted_at"],
    )
    op.create_table(
        "advocate_credits",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        _at("occurred_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advocate_credits")),
        sa.UniqueConstraint("part", "ref", "customer_id", name="uq_advocate_credits_act"),
    )
    op.create_index("ix_advocate_credits_customer", "advocate_credits", ["customer_id", "part"])
    op.create_table(
        "community_activity",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        _at("occurred_at"),
        _at("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_activity")),
        sa.UniqueConstraint("source", "external_id", name="uq_community_activity_source_id"),
    )
    op.create_index(
        op.f("ix_community_activity_customer_id"), "community_activity", ["customer_id"]
    )
    op.create_table(
        "community_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_members")),
        sa.UniqueConstraint("source", "username", name="uq_community_members_user"),
    )


def downgrade() -> None:
    """Revert this revision."""
    for name in (
        "community_members",
        "community_activity",
        "advocate_credits",
        "gathering_invitations",
        "gatherings",
    ):
        op.drop_table(name)
