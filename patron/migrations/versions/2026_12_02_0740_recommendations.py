"""recommendations: trained versions and lists, product flags, evaluations, impressions, clicks

Revision ID: 0740
Revises: 0630
Create Date: 2026-12-02 07:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0740"
down_revision = "0730"
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
        "recommendation_versions",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        _at("started_at"),
        _at("finished_at", True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("stats", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_versions")),
    )
    op.create_table(
        "recommendation_lists",
        sa.Column("version_id", _id_type(), nullable=False),
        sa.Column("owner", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("items", JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["recommendation_versions.id"],
            name=op.f("fk_recommendation_lists_version_id_recommendation_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "owner", "owner_id", "kind", name=op.f("pk_recommendation_lists")
        ),
    )
    op.create_table(
        "recommendation_product_flags",
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("replenishable", sa.Boolean(), nullable=False),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_recommendation_product_flags")),
    )
    op.create_table(
        "recommendation_evaluations",
        sa.Column("id", _id_type(), nullable=False),
        _at("created_at"),
        _at("cutoff"),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("rows", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_evaluations")),
    )
    op.create_table(
        "recommendation_impressions",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("products", JSONType, nullable=False),
        _at("shown_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_impressions")),
        sa.UniqueConstraint("key", name=op.f("uq_recommendation_impressions_key")),
    )
    op.create_index(
        "ix_recommendation_impressions_customer_id",
        "recommendation_impressions",
        ["customer_id"],
    )
    op.create_table(
        "recommendation_clicks",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _at("clicked_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_clicks")),
        sa.UniqueConstraint("event_id", name=op.f("uq_recommendation_clicks_event_id")),
    )
    op.create_index(
        "ix_recommendation_clicks_customer",
        "recommendation_clicks",
        ["customer_id", "clicked_at"],
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_recommendation_clicks_customer", table_name="recommendation_clicks")
    op.drop_table("recommendation_clicks")
    op.drop_index(
        "ix_recommendation_impressions_customer_id", table_name="recommendation_impressions"
    )
    op.drop_table("recommendation_impressions")
    op.drop_table("recommendation_evaluations")
    op.drop_table("recommendation_product_flags")
    op.drop_table("recommendation_lists")
    op.drop_table("recommendation_versions")
