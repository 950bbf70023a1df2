"""The market's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow
from yaosu.market.states import (
    ListingReviewState,
    ListingState,
    NegotiationState,
    ObjectionState,
    OrderState,
    PeriodState,
    ShareState,
)

# --- ledger --------------------------------------------------------------------------------------


# The ledger (TigerBeetle's model): accounts carry their balances as four counters, transfers
# are immutable (triggers refuse UPDATE and DELETE), every amount is an integer number of fen.
# The database checks what must never happen: a zero or negative amount, a transfer from an
# account to itself, a "must not go negative" account below zero, a pending transfer posted
# or voided twice, an idempotency key used twice.


class LedgerAccount(Base):
    """One account of one participant: ``code`` says what it holds (bank, escrow, revenue,
    operator_fee, service_fee, payable, receivable); ``normal`` the side its balance grows
    on. With ``no_negative`` the database keeps that balance at or above zero, pending
    amounts included (TigerBeetle's ``debits_must_not_exceed_credits`` and its twin)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("org_id", "code", "currency", name="uq_ledger_accounts_org_code"),
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0",
            name="counters",
        ),
        CheckConstraint("normal IN ('debit', 'credit')", name="normal"),
        CheckConstraint(
            "NOT no_negative OR (normal = 'credit' AND debits_pending + debits_posted "
            "<= credits_posted) OR (normal = 'debit' AND credits_pending + credits_posted "
            "<= debits_posted)",
            name="no_negative",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    normal: Mapped[str] = mapped_column(String(6))  # debit | credit
    no_negative: Mapped[bool] = mapped_column(Boolean, default=True)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransfer(Base):
    """One movement of ``amount`` fen from ``debit_account_id`` to ``credit_account_id``,
    never changed. ``kind``: ``single`` (posted at once), ``pending`` (reserved until
    ``timeout_at``), ``post`` or ``void`` (resolving ``pending_id``: a post may move less
    than was reserved), ``reversal`` (undoing ``reverses_id``, in part or whole). Transfers
    written together in one linked batch share ``batch_id``."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint("kind IN ('single', 'pending', 'post', 'void', 'reversal')", name="kind"),
        CheckConstraint(
            "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)", name="resolves_pending"
        ),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reverses"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str | None] = mapped_column(String(80), index=True)  # an order, a bank line
    pending_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"), unique=True)
    reverses_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"), index=True)
    timeout_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SettlementStatement(Base):
    """清结算单: one participant's netted position over one clearing period (a day in China
    Standard Time), with a line per account; written once, re-runs return it."""

    __tablename__ = "ledger_statements"
    __table_args__ = (UniqueConstraint("org_id", "period", name="uq_ledger_statements_period"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    debits: Mapped[int] = mapped_column(BigInteger)
    credits: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)  # credits - debits: what the platform owes it
    postings: Mapped[int] = mapped_column(Integer)  # sides of transfers on its accounts
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    settled_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentExpectation(Base):
    """A payment the platform waits for: the payer is told to quote ``reference``
    (YSP-XXXXXXXX) in the bank transfer's memo; bank lines are matched against it."""

    __tablename__ = "ledger_expectations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    ref: Mapped[str | None] = mapped_column(String(80))  # the order it pays for
    status: Mapped[str] = mapped_column(
        String(10), default="open"
    )  # open | partial | paid | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankImport(Base):
    """One bank statement file, imported once (its SHA-256 is unique)."""

    __tablename__ = "ledger_bank_imports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    layout: Mapped[str] = mapped_column(String(10))  # icbc | ccb | abc | generic
    encoding: Mapped[str] = mapped_column(String(10))
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankLine(Base):
    """One incoming payment of a bank statement and what it was matched to."""

    __tablename__ = "ledger_bank_lines"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("ledger_bank_imports.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    counterparty: Mapped[str] = mapped_column(String(200))
    memo: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(20))
    expectation_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_expectations.id"))
    status: Mapped[str] = mapped_column(String(10))  # matched | partial | unmatched
    transfer_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"))


# --- products ------------------------------------------------------------------------------------
# Data products and their listing (market/products.py, listing.py, pricing.py).


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
    sharing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # shares.Rule as JSON
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


# --- orders ----------------------------------------------------------------------------------


class Order(Base):
    """An order: a product, a purpose and a quantity, priced when placed (``quote``), made a
    contract through an access request, paid by bank transfer into the buyer's escrow, held
    there (``holds``: pending transfers to the seller side) while it is delivered, released on
    acceptance or refunded after a dispute."""

    __tablename__ = "market_orders"
    __table_args__ = (
        CheckConstraint(
            "amount_fen >= 0 AND platform_fee_fen >= 0 AND operator_fee_fen >= 0 "
            "AND seller_fen >= 0 AND amount_fen = platform_fee_fen + operator_fee_fen + seller_fen",
            name="amounts",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    seller_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(12))  # pricing.UNITS
    pricing_class: Mapped[str] = mapped_column(String(12))  # as priced: free | capped | market
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    platform_fee_fen: Mapped[int] = mapped_column(BigInteger)
    operator_fee_fen: Mapped[int] = mapped_column(BigInteger)
    seller_fen: Mapped[int] = mapped_column(BigInteger)
    quote: Mapped[dict[str, Any]] = mapped_column(JSON)  # the tiers and the basis, as priced
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)  # products.product_terms when placed
    negotiation_id: Mapped[str | None] = mapped_column(ForeignKey("market_negotiations.id"))
    status: Mapped[str] = mapped_column(String(18), default=OrderState.contracting, index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), index=True)
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    expectation_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_expectations.id"))
    holds: Mapped[list[str]] = mapped_column(JSON, default=list)  # pending transfer ids
    delivery_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_by: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # metered at acceptance
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    regulator_asked: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_because: Mapped[str | None] = mapped_column(String(24))  # labels.ORDER_END
    resolution: Mapped[str | None] = mapped_column(Text)  # a person's words: a ruling, a reason
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransactionCertificate(Base):
    """交易凭证: a settled order's signed certificate. ``check`` is its verification code (as
    a fapiao's 校验码): the public verification page answers only to number and code
    together, so numbers in sequence reveal nothing. ``leaf_index``: the audit log entry
    that recorded it, whose inclusion proof the certificate file carries."""

    __tablename__ = "market_certificates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("market_orders.id"), unique=True)
    check: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(200))
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- contributions and revenue shares ----------------------------------------------------------


class Valuation(Base):
    """One computation of the contributors' values for a product (``market.valuation``): the
    method and its parameters and seed, the players (organisations, in order), their values,
    and the evidence a contributor's statement shows (utilities, errors, copies dropped)."""

    __tablename__ = "market_valuations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    players: Mapped[list[str]] = mapped_column(JSON)  # organisation ids
    values: Mapped[dict[str, float]] = mapped_column(JSON)  # organisation -> value
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    recomputes_id: Mapped[str | None] = mapped_column(ForeignKey("market_valuations.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ShareLine(Base):
    """One party's share of an order's revenue: a role (``task``: the labour it pays for), a contributor, or a royalty
    to an upstream product's party (``hop`` ≥ 1, ``via_order_id``: the upstream purchase). Held
    as a pending transfer from the seller's revenue (``transfer_id``) until the objection
    window ends (``objection_ends_at``), then paid; an objection freezes it."""

    __tablename__ = "market_share_lines"
    __table_args__ = (CheckConstraint("amount_fen >= 0", name="amount_not_negative"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("market_orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("market_products.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    seller_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # role | contributor | royalty
    task: Mapped[str | None] = mapped_column(String(20))
    hop: Mapped[int] = mapped_column(Integer, default=0)
    via_order_id: Mapped[str | None] = mapped_column(ForeignKey("market_orders.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    exact: Mapped[str] = mapped_column(String(80))  # the exact share, "p/q" of seller_fen
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    transfer_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"))
    status: Mapped[str] = mapped_column(String(8), default=ShareState.held, index=True)
    objection_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShareObjection(Base):
    """A contributor's objection to its share: it freezes the share; the platform (or, when
    asked, a regulator) recomputes with the stated seed or decides."""

    __tablename__ = "market_share_objections"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("market_share_lines.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=ObjectionState.open, index=True)
    regulator_asked: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the recomputation or ruling
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
