"""messages: seed the built-in double opt-in confirmation template

Revision ID: 0540
Revises: 0520
Create Date: 2026-12-02 05:40:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0540"
down_revision = "0520"
branch_labels = None
depends_on = None

NAME = "Confirm your subscription"
SUBJECT = "Please confirm your subscription"
# The same text as patron.messages.optin.CONFIRM_BODY (a migration is frozen, so copied).
BODY = """<p>Hello{% if customer.first_name %} {{ customer.first_name }}{% endif %},</p>
<p>Please confirm that you want to receive our email.</p>
<p><a href="{{ data.confirm_url }}">Confirm my subscription</a></p>
<p>If you did not ask for it, ignore this message: you will get nothing more.</p>
"""
TEMPLATES = sa.table(
    "message_templates",
    sa.column("id", sa.BigInteger),
    sa.column("name", sa.String),
    sa.column("channel", sa.String),
    sa.column("kind", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
VARIANTS = sa.table(
    "message_template_variants",
    sa.column("template_id", sa.BigInteger),
    sa.column("locale", sa.String),
    sa.column("format", sa.String),
    sa.column("subject", sa.Text),
    sa.column("preheader", sa.Text),
    sa.column("body", sa.Text),
)


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    if bind.scalar(sa.select(TEMPLATES.c.id).where(TEMPLATES.c.name == NAME)) is not None:
        return
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # SQLite keeps naive UTC, as UTCDateTime writes it
    bind.execute(
        TEMPLATES.insert().values(
            name=NAME, channel="email", kind="transactional", created_at=now, updated_at=now
        )
    )
    template_id = bind.scalar(sa.select(TEMPLATES.c.id).where(TEMPLATES.c.name == NAME))
    bind.execute(
        VARIANTS.insert().values(
            template_id=template_id,
            locale="",
            format="html",
            subject=SUBJECT,
            preheader="",
            body=BODY,
        )
    )


def downgrade() -> None:
    """Revert this revision."""
    bind = op.get_bind()
    template_id = bind.scalar(sa.select(TEMPLATES.c.id).where(TEMPLATES.c.name == NAME))
    if template_id is not None:
        bind.execute(VARIANTS.delete().where(VARIANTS.c.template_id == template_id))
        bind.execute(TEMPLATES.delete().where(TEMPLATES.c.id == template_id))
