"""coupons and referrals: campaigns, codes, redemptions, offers; referral codes, referrals,
velocity alerts and the programme's settings

Revision ID: 0710
Revises: 0630
Create Date: 2026-12-02 07:10:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0710"
down_revision = "0700"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "coupon_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("discount_type", sa.String(length=16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_order_cents", sa.BigInteger(), nullable=False),
        sa.Column("skus", JSONType, nullable=False),
        sa.Column("categories", JSONType, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("total_limit", sa.Integer(), nullable=True),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("in_templates", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("redeemed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_coupon_campaigns_name")),
    )
    op.create_table(
        "referral_alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("referrer_customer_id", ID, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_alerts")),
    )
    op.create_index(
        "uq_referral_alerts_window",
        "referral_alerts",
        ["referrer_customer_id", "window_start"],
        unique=True,
    )
    op.create_table(
        "referral_codes",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_codes_code")),
    )
    op.create_table(
        "referral_programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_programme")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", ID, nullable=False),
        sa.Column("referrer_customer_id", ID, nullable=False),
        sa.Column("referee_customer_id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("order_total_cents", sa.BigInteger(), nullable=True),
        sa.Column("qualifies_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rewards", JSONType, nullable=False),
        sa.Column("attributed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("referee_customer_id", name=op.f("uq_referrals_referee_customer_id")),
    )
    op.create_index(
        "ix_referrals_referrer_state", "referrals", ["referrer_customer_id", "state"], unique=False
    )
    op.create_index("ix_referrals_state_due", "referrals", ["state", "qualifies_at"], unique=False)
    op.create_table(
        "coupon_codes",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("issue_key", sa.String(length=255), nullable=True),
        sa.Column("redeemed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["coupon_campaigns.id"],
            name=op.f("fk_coupon_codes_campaign_id_coupon_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_coupon_codes_code")),
        sa.UniqueConstraint("issue_key", name=op.f("uq_coupon_codes_issue_key")),
    )
    op.create_index("ix_coupon_codes_campaign", "coupon_codes", ["campaign_id", "id"], unique=False)
    op.create_index(
        op.f("ix_coupon_codes_customer_id"), "coupon_codes", ["customer_id"], unique=False
    )
    op.create_table(
        "coupon_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["coupon_campaigns.id"],
            name=op.f("fk_coupon_offers_campaign_id_coupon_campaigns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_offers")),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("order_ref", sa.String(length=255), nullable=False),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("discount_cents", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["coupon_campaigns.id"],
            name=op.f("fk_coupon_redemptions_campaign_id_coupon_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["coupon_codes.id"],
            name=op.f("fk_coupon_redemptions_code_id_coupon_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
    )
    op.create_index(
        "ix_coupon_redemptions_campaign_customer",
        "coupon_redemptions",
        ["campaign_id", "customer_id"],
        unique=False,
    )
    op.create_index(
        "uq_coupon_redemptions_code_order",
        "coupon_redemptions",
        ["code_id", "order_ref"],
        unique=True,
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_coupon_redemptions_code_order", table_name="coupon_redemptions")
    op.drop_index("ix_coupon_redemptions_campaign_customer", table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_table("coupon_offers")
    op.drop_index(op.f("ix_coupon_codes_customer_id"), table_name="coupon_codes")
    op.drop_index("ix_coupon_codes_campaign", table_name="coupon_codes")
    op.drop_table("coupon_codes")
    op.drop_index("ix_referrals_state_due", table_name="referrals")
    op.drop_index("ix_referrals_referrer_state", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("referral_programme")
    op.drop_table("referral_codes")
    op.drop_index("uq_referral_alerts_window", table_name="referral_alerts")
    op.drop_table("referral_alerts")
    op.drop_table("coupon_campaigns")
