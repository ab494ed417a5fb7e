"""messages: templates, variants, layouts, broadcasts, outbox, activity, capture, suppression, topics

Revision ID: 0400
Revises: 0200
Create Date: 2026-12-01 04:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0400"
down_revision = "0300"
branch_labels = None
depends_on = None


def _id_type():
    """BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "broadcasts",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("template_id", sa.BigInteger(), nullable=False),
        sa.Column("segment_ids", JSONType, nullable=False),
        sa.Column("exclude_segment_ids", JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("local_time", sa.String(length=5), nullable=True),
        sa.Column("audience_size", sa.Integer(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index(op.f("ix_broadcasts_template_id"), "broadcasts", ["template_id"], unique=False)
    op.create_table(
        "captured_messages",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("headers", JSONType, nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captured_messages")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_captured_messages_outbox_id")),
    )
    op.create_index(
        op.f("ix_captured_messages_captured_at"), "captured_messages", ["captured_at"], unique=False
    )
    op.create_index(
        op.f("ix_captured_messages_to_address"), "captured_messages", ["to_address"], unique=False
    )
    op.create_table(
        "message_activity",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("bot_reason", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("revenue_cents", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_activity")),
        sa.UniqueConstraint("order_id", name=op.f("uq_message_activity_order_id")),
    )
    op.create_index(op.f("ix_message_activity_at"), "message_activity", ["at"], unique=False)
    op.create_index(
        op.f("ix_message_activity_customer_id"), "message_activity", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_message_activity_message", "message_activity", ["outbox_id", "kind"], unique=False
    )
    op.create_table(
        "message_layouts",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_layouts")),
        sa.UniqueConstraint("name", name=op.f("uq_message_layouts_name")),
    )
    op.create_table(
        "message_template_variants",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("template_id", sa.BigInteger(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("preheader", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template_variants")),
        sa.UniqueConstraint(
            "template_id", "locale", name=op.f("uq_message_template_variants_template_id")
        ),
    )
    op.create_index(
        op.f("ix_message_template_variants_template_id"),
        "message_template_variants",
        ["template_id"],
        unique=False,
    )
    op.create_table(
        "message_templates",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("layout_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_message_templates_name")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", _id_type(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("occurrence", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("data", JSONType, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
        sa.UniqueConstraint(
            "source",
            "source_id",
            "customer_id",
            "channel",
            "occurrence",
            name=op.f("uq_outbox_source"),
        ),
    )
    op.create_index(op.f("ix_outbox_customer_id"), "outbox", ["customer_id"], unique=False)
    op.create_index("ix_outbox_customer_sent", "outbox", ["customer_id", "sent_at"], unique=False)
    op.create_index("ix_outbox_due", "outbox", ["state", "priority", "send_after"], unique=False)
    op.create_table(
        "subscription_choices",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "topic", name=op.f("pk_subscription_choices")),
    )
    op.create_table(
        "subscription_topics",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("opt_in", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_subscription_topics")),
    )
    op.create_table(
        "suppressions",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_suppressions")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("suppressions")
    op.drop_table("subscription_topics")
    op.drop_table("subscription_choices")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_index("ix_outbox_customer_sent", table_name="outbox")
    op.drop_index(op.f("ix_outbox_customer_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("message_templates")
    op.drop_index(
        op.f("ix_message_template_variants_template_id"), table_name="message_template_variants"
    )
    op.drop_table("message_template_variants")
    op.drop_table("message_layouts")
    op.drop_index("ix_message_activity_message", table_name="message_activity")
    op.drop_index(op.f("ix_message_activity_customer_id"), table_name="message_activity")
    op.drop_index(op.f("ix_message_activity_at"), table_name="message_activity")
    op.drop_table("message_activity")
    op.drop_index(op.f("ix_captured_messages_to_address"), table_name="captured_messages")
    op.drop_index(op.f("ix_captured_messages_captured_at"), table_name="captured_messages")
    op.drop_table("captured_messages")
    op.drop_index(op.f("ix_broadcasts_template_id"), table_name="broadcasts")
    op.drop_table("broadcasts")
