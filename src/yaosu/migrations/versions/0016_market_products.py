"""the market's products and listings: products with their Frictionless manifests and price
rules, their lineage (sources and the operation rights over them), listing reviews,
assessors' reports, price negotiations and operators' revenue periods

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yaosu.kernel.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seller_org_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("public_data", sa.Boolean(), nullable=False),
        sa.Column("pricing_class", sa.String(length=12), nullable=False),
        sa.Column("price", sa.JSON(), nullable=False),
        sa.Column("cap_unit_fen", sa.BigInteger(), nullable=True),
        sa.Column("cap_set_by", sa.String(length=64), nullable=True),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("platform_fee_bp", sa.Integer(), nullable=False),
        sa.Column("operator_fee_bp", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("notice_ends_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_listed_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_products_seller_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_products")),
    )
    with op.batch_alter_table("market_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_products_seller_org_id"), ["seller_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_products_status"), ["status"], unique=False)

    op.create_table(
        "market_revenue_periods",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("operator_org_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cost_fen", sa.BigInteger(), nullable=False),
        sa.Column("profit_fen", sa.BigInteger(), nullable=False),
        sa.Column("tax_fen", sa.BigInteger(), nullable=False),
        sa.Column("deduction_fen", sa.BigInteger(), nullable=False),
        sa.Column("revenue_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("previous_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_revenue_periods_operator_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["market_revenue_periods.id"],
            name=op.f("fk_market_revenue_periods_previous_id_market_revenue_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_revenue_periods")),
    )
    with op.batch_alter_table("market_revenue_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_revenue_periods_operator_org_id"),
            ["operator_org_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_market_revenue_periods_status"), ["status"], unique=False
        )

    op.create_table(
        "market_assessment_reports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("assessor_org_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("value_fen", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_assessment_reports_assessor_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_assessment_reports_product_id_market_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_assessment_reports")),
    )
    with op.batch_alter_table("market_assessment_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_assessment_reports_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "market_listing_reviews",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("reviewer_org_id", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_listing_reviews_product_id_market_products"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_listing_reviews_reviewer_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_listing_reviews")),
    )
    with op.batch_alter_table("market_listing_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_listing_reviews_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_listing_reviews_reviewer_org_id"),
            ["reviewer_org_id"],
            unique=False,
        )

    op.create_table(
        "market_negotiations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_org_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("offers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yaosu.kernel.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_org_id"],
            ["organisations.id"],
            name=op.f("fk_market_negotiations_buyer_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_negotiations_product_id_market_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_negotiations")),
    )
    with op.batch_alter_table("market_negotiations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_negotiations_buyer_org_id"), ["buyer_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_negotiations_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_negotiations_status"), ["status"], unique=False)

    op.create_table(
        "market_product_sources",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("dataset_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("right_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_market_product_sources_dataset_id_datasets"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["market_products.id"],
            name=op.f("fk_market_product_sources_product_id_market_products"),
        ),
        sa.ForeignKeyConstraint(
            ["right_id"],
            ["right_grants.id"],
            name=op.f("fk_market_product_sources_right_id_right_grants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_product_sources")),
    )
    with op.batch_alter_table("market_product_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_product_sources_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_product_sources_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("market_product_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_product_sources_product_id"))
        batch_op.drop_index(batch_op.f("ix_market_product_sources_dataset_id"))

    op.drop_table("market_product_sources")
    with op.batch_alter_table("market_negotiations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_negotiations_status"))
        batch_op.drop_index(batch_op.f("ix_market_negotiations_product_id"))
        batch_op.drop_index(batch_op.f("ix_market_negotiations_buyer_org_id"))

    op.drop_table("market_negotiations")
    with op.batch_alter_table("market_listing_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_listing_reviews_reviewer_org_id"))
        batch_op.drop_index(batch_op.f("ix_market_listing_reviews_product_id"))

    op.drop_table("market_listing_reviews")
    with op.batch_alter_table("market_assessment_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_assessment_reports_product_id"))

    op.drop_table("market_assessment_reports")
    with op.batch_alter_table("market_revenue_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_revenue_periods_status"))
        batch_op.drop_index(batch_op.f("ix_market_revenue_periods_operator_org_id"))

    op.drop_table("market_revenue_periods")
    with op.batch_alter_table("market_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_products_status"))
        batch_op.drop_index(batch_op.f("ix_market_products_seller_org_id"))

    op.drop_table("market_products")
