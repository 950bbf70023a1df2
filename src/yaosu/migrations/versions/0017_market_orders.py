"""the market's orders: what was bought, for what purpose and how much, priced when placed,
the access request and contract it became, its payment, the escrow holds and its delivery,
acceptance or dispute; the transaction certificates of settled orders

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_org_id", sa.String(length=40), nullable=False),
        sa.Column("seller_org_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("pricing_class", sa.String(length=12), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("operator_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("seller_fen", sa.BigInteger(), nullable=False),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("negotiation_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=18), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=40), nullable=True),
        sa.Column("expectation_id", sa.String(length=40), nullable=True),
        sa.Column("holds", sa.JSON(), nullable=False),
        sa.Column("delivery_started_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accept_by", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.JSON(), nullable=True),
        sa.Column("dispute_reason", sa.Text(), nullable=True),
        sa.Column("disputed_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("regulator_asked", sa.Boolean(), nullable=False),
        sa.Column("ended_because", sa.String(length=24), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_fen >= 0 AND platform_fee_fen >= 0 AND operator_fee_fen >= 0 AND seller_fen >= 0 AND amount_fen = platform_fee_fen + operator_fee_fen + seller_fen",
            name=op.f("ck_market_orders_amounts"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_market_orders_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["buyer_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_orders_buyer_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_market_orders_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["expectation_id"],
            ["ledger_expectations.id"],
            name=op.f("fk_market_orders_expectation_id_ledger_expectations"),
        ),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["market_negotiations.id"],
            name=op.f("fk_market_orders_negotiation_id_market_negotiations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_orders_product_id_market_products"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["access_requests.id"],
            name=op.f("fk_market_orders_request_id_access_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_orders_seller_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_orders")),
    )
    with op.batch_alter_table("market_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_orders_accept_by"), ["accept_by"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_market_orders_buyer_org_id"), ["buyer_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_orders_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_orders_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_orders_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_orders_seller_org_id"), ["seller_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_orders_status"), ["status"], unique=False)

    op.create_table(
        "market_certificates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("check", sa.String(length=16), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["market_orders.id"],
            name=op.f("fk_market_certificates_order_id_market_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_market_certificates_number")),
        sa.UniqueConstraint("order_id", name=op.f("uq_market_certificates_order_id")),
    )


def downgrade() -> None:
    op.drop_table("market_certificates")
    with op.batch_alter_table("market_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_orders_status"))
        batch_op.drop_index(batch_op.f("ix_market_orders_seller_org_id"))
        batch_op.drop_index(batch_op.f("ix_market_orders_request_id"))
        batch_op.drop_index(batch_op.f("ix_market_orders_product_id"))
        batch_op.drop_index(batch_op.f("ix_market_orders_contract_id"))
        batch_op.drop_index(batch_op.f("ix_market_orders_buyer_org_id"))
        batch_op.drop_index(batch_op.f("ix_market_orders_accept_by"))

    op.drop_table("market_orders")
