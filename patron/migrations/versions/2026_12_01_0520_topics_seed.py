"""messages: seed the subscription topics (newsletter, offers, events, product news)

Revision ID: 0520
Revises: 0400
Create Date: 2026-12-01 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0520"
down_revision = "0400"
branch_labels = None
depends_on = None

TOPICS = sa.table(
    "subscription_topics",
    sa.column("key", sa.String),
    sa.column("name", sa.String),
    sa.column("opt_in", sa.Boolean),
)
# opt_in: a customer receives the topic only after choosing it; otherwise until opting out.
SEED = [
    {"key": "newsletter", "name": "Newsletter", "opt_in": False},
    {"key": "offers", "name": "Offers", "opt_in": False},
    {"key": "events", "name": "Events", "opt_in": True},
    {"key": "product_news", "name": "Product news", "opt_in": True},
]


def upgrade() -> None:
    """Apply this revision."""
    op.bulk_insert(TOPICS, SEED)


def downgrade() -> None:
    """Revert this revision."""
    op.execute(TOPICS.delete().where(TOPICS.c.key.in_([t["key"] for t in SEED])))
