"""ethics review: committees and reviews; a job's ethics approval and its ε; the contract term
that lets a trained model leave a compute job

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_ethics_committees",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("entrusted", sa.Boolean(), nullable=False),
        sa.Column("registration", sa.String(length=100), nullable=False),
        sa.Column("term_ends_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("compute_ethics_committees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_ethics_committees_org_id"), ["org_id"], unique=False
        )

    op.create_table(
        "compute_ethics_reviews",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("committee_id", sa.String(length=40), nullable=False),
        sa.Column("committee_org_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("algorithm_id", sa.String(length=40), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("procedure", sa.String(length=12), nullable=False),
        sa.Column("previous_id", sa.String(length=40), nullable=True),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("re_review", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(length=16), nullable=False),
        sa.Column("application", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("meeting", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("re_reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("re_reviewed_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("re_review_reason", sa.Text(), nullable=True),
        sa.Column("follow_up_months", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("applied_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["algorithm_id"], ["compute_algorithms.id"]),
        sa.ForeignKeyConstraint(["committee_id"], ["compute_ethics_committees.id"]),
        sa.ForeignKeyConstraint(["committee_org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("compute_ethics_reviews", schema=None) as batch_op:
        for column in (
            "algorithm_id",
            "committee_id",
            "committee_org_id",
            "org_id",
            "previous_id",
            "status",
            "due_at",
            "valid_until",
            "created_at",
        ):
            batch_op.create_index(
                batch_op.f(f"ix_compute_ethics_reviews_{column}"), [column], unique=False
            )

    with op.batch_alter_table("compute_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ethics_review_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("epsilon", sa.Float(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_compute_jobs_ethics_review_id"), ["ethics_review_id"], unique=False
        )
    for table in ("access_requests", "contracts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("models", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in ("contracts", "access_requests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("models")
    with op.batch_alter_table("compute_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_jobs_ethics_review_id"))
        batch_op.drop_column("epsilon")
        batch_op.drop_column("ethics_review_id")
    op.drop_table("compute_ethics_reviews")
    op.drop_table("compute_ethics_committees")
