"""extracts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extracts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=False),
        sa.Column("consumer_org_id", sa.String(length=40), nullable=False),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("recipe", sa.JSON(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_extracts_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extracts")),
    )
    with op.batch_alter_table("extracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_extracts_consumer_org_id"), ["consumer_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_extracts_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_extracts_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("extracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extracts_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_extracts_contract_id"))
        batch_op.drop_index(batch_op.f("ix_extracts_consumer_org_id"))

    op.drop_table("extracts")
