"""lineage: OpenLineage run events as emitted, and the datasets each one names

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=10), nullable=False),
        sa.Column("job", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_org_id", sa.String(length=40), nullable=True),
        sa.Column("contract_id", sa.String(length=40), nullable=True),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_events")),
    )
    for column in ("run_id", "job", "actor_org_id", "contract_id", "created_at", "sent_at"):
        op.create_index(op.f(f"ix_lineage_events_{column}"), "lineage_events", [column])
    op.create_table(
        "lineage_datasets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("side", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["lineage_events.id"],
            name=op.f("fk_lineage_datasets_event_id_lineage_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_datasets")),
    )
    for column in ("event_id", "name", "org_id", "sha256"):
        op.create_index(op.f(f"ix_lineage_datasets_{column}"), "lineage_datasets", [column])


def downgrade() -> None:
    op.drop_table("lineage_datasets")
    op.drop_table("lineage_events")
