"""background jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("actor", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("object_org_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_zh", sa.Text(), nullable=True),
        sa.Column("error_en", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("heartbeat_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_object_id"), ["object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_object_org_id"), ["object_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_object_org_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_object_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_created_by"))

    op.drop_table("jobs")
