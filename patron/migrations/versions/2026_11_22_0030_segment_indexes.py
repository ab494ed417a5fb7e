"""segment indexes: consents by channel and status; orders by time covering the bought window

Revision ID: 0030
Revises: 0020
Create Date: 2026-11-22 21:00:00
"""

from alembic import op

revision = "0030"
down_revision = "0020"
branch_labels = None
depends_on = None

ORDER_COLUMNS = ["id", "customer_id", "status"]


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consents_channel_status", ["channel", "status", "customer_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        # Same name and key; the INCLUDE columns exist on PostgreSQL only (SQLite keeps its index).
        op.drop_index("ix_orders_placed_at", table_name="orders")
        op.create_index(
            "ix_orders_placed_at",
            "orders",
            ["placed_at"],
            unique=False,
            postgresql_include=ORDER_COLUMNS,
        )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_orders_placed_at", table_name="orders")
        op.create_index("ix_orders_placed_at", "orders", ["placed_at"], unique=False)
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index("ix_consents_channel_status")
