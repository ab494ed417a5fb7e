"""loyalty: programme, earn rules, accounts, ledger entries, lots, tiers, rewards, redemptions

Revision ID: 0700
Revises: 0630
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0700"
down_revision = "0630"
branch_labels = None
depends_on = None


def ID():
    """BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "loyalty_accounts",
        sa.Column("customer_id", ID(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("tier_review_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_loyalty_accounts")),
    )
    op.create_index(op.f("ix_loyalty_accounts_tier"), "loyalty_accounts", ["tier"], unique=False)
    op.create_table(
        "loyalty_entries",
        sa.Column("id", ID(), nullable=False),
        sa.Column("customer_id", ID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("lot_id", ID(), nullable=True),
        sa.Column("order_id", ID(), nullable=True),
        sa.Column("event_id", ID(), nullable=True),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("redemption_id", ID(), nullable=True),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("detail", JSONType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_loyalty_entries_key")),
    )
    op.create_index("ix_loyalty_entries_created", "loyalty_entries", ["created_at"], unique=False)
    op.create_index(
        "ix_loyalty_entries_customer", "loyalty_entries", ["customer_id", "id"], unique=False
    )
    op.create_index(op.f("ix_loyalty_entries_lot_id"), "loyalty_entries", ["lot_id"], unique=False)
    op.create_index(
        op.f("ix_loyalty_entries_rule_id"), "loyalty_entries", ["rule_id"], unique=False
    )
    op.create_table(
        "loyalty_lots",
        sa.Column("id", ID(), nullable=False),
        sa.Column("customer_id", ID(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("clawed", sa.BigInteger(), nullable=False),
        sa.Column("order_id", ID(), nullable=True),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_lots")),
    )
    op.create_index(
        "ix_loyalty_lots_customer", "loyalty_lots", ["customer_id", "earned_at", "id"], unique=False
    )
    op.create_index("ix_loyalty_lots_expires", "loyalty_lots", ["expires_at"], unique=False)
    op.create_index(op.f("ix_loyalty_lots_order_id"), "loyalty_lots", ["order_id"], unique=False)
    op.create_index("ix_loyalty_lots_release", "loyalty_lots", ["release_at"], unique=False)
    op.create_table(
        "loyalty_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_programme")),
    )
    op.create_table(
        "loyalty_rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("cost_points", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_rewards")),
    )
    op.create_table(
        "loyalty_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("spent_points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_rules")),
    )
    op.create_index(op.f("ix_loyalty_rules_trigger"), "loyalty_rules", ["trigger"], unique=False)
    op.create_table(
        "loyalty_tier_changes",
        sa.Column("id", ID(), nullable=False),
        sa.Column("customer_id", ID(), nullable=False),
        sa.Column("from_tier", sa.String(length=64), nullable=True),
        sa.Column("to_tier", sa.String(length=64), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_tier_changes")),
    )
    op.create_index(
        "ix_loyalty_tier_changes_customer",
        "loyalty_tier_changes",
        ["customer_id", "id"],
        unique=False,
    )
    op.create_table(
        "loyalty_redemptions",
        sa.Column("id", ID(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("customer_id", ID(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("details", JSONType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["loyalty_rewards.id"],
            name=op.f("fk_loyalty_redemptions_reward_id_loyalty_rewards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_redemptions")),
        sa.UniqueConstraint("key", name=op.f("uq_loyalty_redemptions_key")),
    )
    op.create_index(
        "ix_loyalty_redemptions_customer",
        "loyalty_redemptions",
        ["customer_id", "reward_id"],
        unique=False,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("loyalty_redemptions")
    op.drop_table("loyalty_tier_changes")
    op.drop_table("loyalty_rules")
    op.drop_table("loyalty_rewards")
    op.drop_table("loyalty_programme")
    op.drop_table("loyalty_lots")
    op.drop_table("loyalty_entries")
    op.drop_table("loyalty_accounts")
