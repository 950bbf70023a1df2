"""access requests and contracts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    purposes = op.create_table(
        "purposes",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("pricing", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_purposes")),
    )
    # The default purpose taxonomy: free for governance and welfare, capped cost-based fees
    # for research, rural revitalisation and industry use of public data, market price for
    # marketing. A copy of authorization.purposes.DEFAULT_PURPOSES, kept on purpose: a
    # migration is a frozen snapshot and imports no app code that may change; a change to the
    # defaults is a new migration. tests/authorization/test_vocabulary.py fails if they drift.
    op.bulk_insert(
        purposes,
        [
            {
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "pricing": pricing,
                "description": "",
                "active": True,
            }
            for code, zh, en, pricing in [
                ("public_governance", "公共治理", "Public governance", "free"),
                ("public_welfare", "公益事业", "Public welfare", "free"),
                ("scientific_research", "科学研究", "Scientific research", "capped"),
                ("rural_revitalisation", "乡村振兴", "Rural revitalisation", "capped"),
                ("industry_development", "产业发展", "Industry development", "capped"),
                ("commercial_marketing", "商业营销", "Commercial marketing", "market"),
            ]
        ],
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("requester_org_id", sa.String(length=40), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("algorithm", sa.String(length=200), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("epsilon", sa.Float(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("territory", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("pricing", sa.String(length=12), nullable=False),
        sa.Column("due_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["purpose"], ["purposes.code"], name=op.f("fk_access_requests_purpose_purposes")
        ),
        sa.ForeignKeyConstraint(
            ["requester_org_id"],
            ["organisations.id"],
            name=op.f("fk_access_requests_requester_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_requests_requester_org_id"), ["requester_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_requests_status"), ["status"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("consumer_org_id", sa.String(length=40), nullable=False),
        sa.Column("provider_org_ids", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("masks", sa.JSON(), nullable=False),
        sa.Column("row_filters", sa.JSON(), nullable=False),
        sa.Column("algorithm", sa.String(length=200), nullable=True),
        sa.Column("starts_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=True),
        sa.Column("epsilon_budget", sa.Float(), nullable=True),
        sa.Column("epsilon_spent", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=True),
        sa.Column("territory", sa.String(length=100), nullable=False),
        sa.Column("duties", sa.JSON(), nullable=False),
        sa.Column("prohibitions", sa.JSON(), nullable=False),
        sa.Column("pricing", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_org_id"],
            ["organisations.id"],
            name=op.f("fk_contracts_consumer_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contracts_consumer_org_id"), ["consumer_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contracts_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_status"), ["status"], unique=False)

    op.create_table(
        "access_reviews",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("reviewer_org_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_access_reviews_request_id_access_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_org_id"],
            ["organisations.id"],
            name=op.f("fk_access_reviews_reviewer_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_reviews")),
    )
    with op.batch_alter_table("access_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_reviews_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_reviews_reviewer_org_id"), ["reviewer_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_reviews_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_access_reviews_reviewer_org_id"))
        batch_op.drop_index(batch_op.f("ix_access_reviews_request_id"))

    op.drop_table("access_reviews")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_status"))
        batch_op.drop_index(batch_op.f("ix_contracts_request_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_consumer_org_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_status"))
        batch_op.drop_index(batch_op.f("ix_access_requests_requester_org_id"))

    op.drop_table("access_requests")
    op.drop_table("purposes")
