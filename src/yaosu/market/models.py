"""The market's tables."""

from __future__ import annotations

# --- ledger ---

# --- end ledger ---

# --- products ---
# Data products and their listing (market/products.py, listing.py, pricing.py). The names
# come first so that this block's imports sort among themselves, not into the ledger's.
PRODUCT_TABLES = (
    "market_products",
    "market_product_sources",
    "market_listing_reviews",
    "market_assessment_reports",
    "market_negotiations",
    "market_revenue_periods",
)
from datetime import datetime  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402

from yaosu.kernel.db import Base, UTCDateTime, utcnow  # noqa: E402
from yaosu.market.states import (  # noqa: E402
    ListingReviewState,
    ListingState,
    NegotiationState,
    PeriodState,
)


class Product(Base):
    """A data product: what is sold. Its manifest is a Frictionless Data Package descriptor;
    its sources (``ProductSource``) are the registered versions and operation rights it is
    made from; its price rule (``price``) is checked against its pricing class and, for
    public data, against the cap the authorising body set (``cap_unit_fen``)."""

    __tablename__ = "market_products"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # products.KINDS
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)  # a Data Package descriptor
    public_data: Mapped[bool] = mapped_column(Boolean, default=False)
    pricing_class: Mapped[str] = mapped_column(String(12))  # free | capped | market
    price: Mapped[dict[str, Any]] = mapped_column(JSON)  # pricing.PriceRule as JSON
    cap_unit_fen: Mapped[int | None] = mapped_column(BigInteger)  # 上限收费标准, per unit
    cap_set_by: Mapped[str | None] = mapped_column(String(64))
    purposes: Mapped[list[str]] = mapped_column(JSON)  # purpose codes it may be bought for
    platform_fee_bp: Mapped[int] = mapped_column(Integer, default=0)  # basis points
    operator_fee_bp: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=ListingState.draft, index=True)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # 合规评估 findings
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # trial tariffs
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProductSource(Base):
    """Lineage: one registered dataset version a product is made from, and the operation
    right (经营权) over it that the seller holds."""

    __tablename__ = "market_product_sources"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    right_id: Mapped[str] = mapped_column(ForeignKey("right_grants.id"))


class ListingReview(Base):
    """One department's review of a listing, routed as access requests are."""

    __tablename__ = "market_listing_reviews"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    reviewer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    rule: Mapped[str] = mapped_column(String(60))  # provider | public | personal, joined by +
    status: Mapped[str] = mapped_column(String(12), default=ListingReviewState.pending)
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssessmentReport(Base):
    """A quality or valuation report an assessor organisation attaches during assessment."""

    __tablename__ = "market_assessment_reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    assessor_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(12))  # quality | valuation
    summary: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(Integer)  # quality, 0-100
    value_fen: Mapped[int | None] = mapped_column(BigInteger)  # valuation
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Negotiation(Base):
    """议价: a buyer's quote, the seller's counter, until one side accepts or declines."""

    __tablename__ = "market_negotiations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # the offer on the table
    offers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # every offer, in order
    status: Mapped[str] = mapped_column(String(12), default=NegotiationState.offered, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevenuePeriod(Base):
    """An operator's 最高准许收入 for one period of public-data operation: operating cost +
    allowed profit + tax, less what the previous period earned above its own."""

    __tablename__ = "market_revenue_periods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cost_fen: Mapped[int] = mapped_column(BigInteger)
    profit_fen: Mapped[int] = mapped_column(BigInteger)
    tax_fen: Mapped[int] = mapped_column(BigInteger)
    deduction_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # the last one's excess
    revenue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default=PeriodState.open, index=True)
    previous_id: Mapped[str | None] = mapped_column(ForeignKey("market_revenue_periods.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- end products ---
