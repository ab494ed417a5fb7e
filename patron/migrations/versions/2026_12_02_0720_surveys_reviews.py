"""surveys and reviews: surveys, requests, responses, recontact times; review requests, reviews

Revision ID: 0720
Revises: 0630
Create Date: 2026-12-02 07:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0720"
down_revision = "0710"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _surveys() -> None:
    op.create_table(
        "surveys",
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("questions", JSONType, nullable=False),
        sa.Column("template_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("name", name="uq_surveys_name"),
    )
    op.create_table(
        "survey_requests",
        sa.PrimaryKeyConstraint("id", name="pk_survey_requests"),
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "survey_id",
            sa.Integer(),
            sa.ForeignKey(
                "surveys.id", ondelete="CASCADE", name="fk_survey_requests_survey_id_surveys"
            ),
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", TS, nullable=False),
        sa.UniqueConstraint("key", name="uq_survey_requests_key"),
    )
    op.create_index(
        "ix_survey_requests_customer", "survey_requests", ["customer_id", "survey_id", "id"]
    )
    op.create_table(
        "survey_responses",
        sa.PrimaryKeyConstraint("id", name="pk_survey_responses"),
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "survey_id",
            sa.Integer(),
            sa.ForeignKey(
                "surveys.id", ondelete="CASCADE", name="fk_survey_responses_survey_id_surveys"
            ),
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("question_type", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("nps_category", sa.String(16), nullable=True),
        sa.Column("answers", JSONType, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.Column("answered_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("key", name="uq_survey_responses_key"),
    )
    op.create_index("ix_survey_responses_survey", "survey_responses", ["survey_id", "answered_at"])
    op.create_index("ix_survey_responses_customer", "survey_responses", ["customer_id"])
    op.create_table(
        "survey_contacts",
        sa.PrimaryKeyConstraint("customer_id", name="pk_survey_contacts"),
        sa.Column("customer_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("last_asked_at", TS, nullable=False),
    )


def _reviews() -> None:
    op.create_table(
        "review_requests",
        sa.PrimaryKeyConstraint("id", name="pk_review_requests"),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("requested_at", TS, nullable=True),
        sa.Column("outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("customer_id", "sku", name="uq_review_requests_customer_id"),
    )
    op.create_index("ix_review_requests_due", "review_requests", ["state", "due_at"])
    op.create_table(
        "reviews",
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("moderated_at", TS, nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.UniqueConstraint("customer_id", "sku", name="uq_reviews_customer_id"),
    )
    op.create_index("ix_reviews_sku_state", "reviews", ["sku", "state"])
    op.create_index("ix_reviews_state", "reviews", ["state", "id"])


def upgrade() -> None:
    """Apply this revision."""
    _surveys()
    _reviews()


def downgrade() -> None:
    """Revert this revision."""
    for name in (
        "reviews",
        "review_requests",
        "survey_contacts",
        "survey_responses",
        "survey_requests",
        "surveys",
    ):
        op.drop_table(name)
