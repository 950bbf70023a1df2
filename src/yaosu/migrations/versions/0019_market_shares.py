"""the market's revenue shares: a product's sharing rule, contribution valuations, each order's
share lines (held, frozen, paid), and contributors' objections

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

When = yaosu.kernel.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    # a plain ADD COLUMN (SQLite too): rebuilding market_products would trip its foreign keys
    op.add_column(
        "market_products", sa.Column("sharing", sa.JSON(), nullable=False, server_default="{}")
    )
    op.create_table(
        "market_valuations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("players", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recomputes_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_valuations_product_id_market_products"),
        ),
        sa.ForeignKeyConstraint(
            ["recomputes_id"],
            ["market_valuations.id"],
            name=op.f("fk_market_valuations_recomputes_id_market_valuations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_valuations")),
    )
    for column in ("product_id", "created_at"):
        op.create_index(op.f(f"ix_market_valuations_{column}"), "market_valuations", [column])
    op.create_table(
        "market_share_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("seller_org_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("task", sa.String(length=20), nullable=True),
        sa.Column("hop", sa.Integer(), nullable=False),
        sa.Column("via_order_id", sa.String(length=40), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("exact", sa.String(length=80), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("transfer_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("objection_ends_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("settled_at", When, nullable=True),
        sa.CheckConstraint(
            "amount_fen >= 0", name=op.f("ck_market_share_lines_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["market_orders.id"],
            name=op.f("fk_market_share_lines_order_id_market_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_share_lines_product_id_market_products"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_market_share_lines_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_share_lines_seller_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["via_order_id"],
            ["market_orders.id"],
            name=op.f("fk_market_share_lines_via_order_id_market_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["ledger_transfers.id"],
            name=op.f("fk_market_share_lines_transfer_id_ledger_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_share_lines")),
    )
    for column in (
        "order_id",
        "product_id",
        "org_id",
        "seller_org_id",
        "status",
        "objection_ends_at",
        "created_at",
    ):
        op.create_index(op.f(f"ix_market_share_lines_{column}"), "market_share_lines", [column])
    op.create_table(
        "market_share_objections",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("line_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("regulator_asked", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("decided_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["market_share_lines.id"],
            name=op.f("fk_market_share_objections_line_id_market_share_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_market_share_objections_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_share_objections")),
    )
    for column in ("line_id", "org_id", "status"):
        op.create_index(
            op.f(f"ix_market_share_objections_{column}"), "market_share_objections", [column]
        )


def downgrade() -> None:
    op.drop_table("market_share_objections")
    op.drop_table("market_share_lines")
    op.drop_table("market_valuations")
    op.drop_column("market_products", "sharing")  # ALTER TABLE DROP COLUMN (SQLite >= 3.35)
