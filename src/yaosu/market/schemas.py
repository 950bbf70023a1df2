"""The market's API bodies and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yaosu.accounts.schemas import ResponsibilityPublic
from yaosu.web.params import MAX_INT32, IsoAwareDateTime, IsoDate

# --- ledger --------------------------------------------------------------------------------------


class StatementLine(BaseModel):
    account: str
    code: str
    debits: int
    credits: int


class StatementPublic(BaseModel):
    """A participant's settlement statement for one day (China Standard Time); amounts in
    fen, ``net`` = credits - debits: what the platform owes the participant for the day."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    org_id: str
    period: date
    debits: int
    credits: int
    net: int
    postings: int
    lines: list[StatementLine]
    settled_by: str
    created_at: datetime


class SettlementRun(BaseModel):
    period: IsoDate | None = Field(
        default=None, description="the day to settle; default: the latest clearable (T+lag)"
    )


class BankLinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    row: int
    booked_on: date
    amount: int
    counterparty: str
    memo: str
    reference: str | None
    status: str
    transfer_id: str | None


class BankImportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    layout: str
    encoding: str
    rows: int
    imported_by: str
    created_at: datetime
    lines: list[BankLinePublic] = []


class ReconciliationPublic(BaseModel):
    """Ledger = statements = bank: ``ok`` when every account's counters equal its transfers,
    all debits equal all credits, every settled day's statements equal its transfers, and
    every matched bank line has its transfer (and no such transfer lacks its line)."""

    ok: bool
    accounts: int
    account_problems: list[dict[str, Any]]
    debits: int
    credits: int
    periods: list[str]
    settled_net: int
    statement_problems: list[dict[str, Any]]
    unsettled: list[str]
    bank_lines: int
    bank_received: int
    bank_problems: list[dict[str, Any]]
    unmatched: list[dict[str, Any]]
    unmatched_amount: int


# --- products ------------------------------------------------------------------------------------


ProductKind = Literal[
    "query_service", "extract_subscription", "compute_service", "release", "dataset_version"
]


class SourceIn(BaseModel):
    dataset_id: str = Field(max_length=40)
    version: int | None = Field(default=None, ge=1, le=MAX_INT32)  # None: the latest


class ProductCreate(BaseModel):
    """A draft product. ``manifest``: a Frictionless Data Package descriptor; left out, one
    is made from the sources' schemas. ``price``: ``{"model": "fixed", "unit": "calls",
    "unit_fen": 500}``, ``{"model": "tiered", "unit": …, "tiers": [{"up_to": 1000,
    "unit_fen": 50}, {"up_to": null, "unit_fen": 30}]}``, ``{"model": "negotiated", "unit":
    …}`` or ``{"model": "free"}``."""

    kind: ProductKind
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=5000)
    sources: list[SourceIn] = Field(min_length=1, max_length=20)
    manifest: dict[str, Any] | None = None
    licence: str = Field(default="CC-BY-4.0", max_length=200)
    public_data: bool = False
    pricing_class: Literal["free", "capped", "market"]
    price: dict[str, Any]
    purposes: list[str] = Field(min_length=1, max_length=20)
    platform_fee_bp: int = Field(default=0, ge=0, le=10_000)
    operator_fee_bp: int = Field(default=0, ge=0, le=10_000)
    # the sharing rule (market.shares): role shares, the contributor pool and its method
    sharing: dict[str, Any] | None = None

    def service_sources(self) -> list[dict[str, Any]]:
        return [s.model_dump() for s in self.sources]


class SourcePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dataset_id: str
    version: int
    sha256: str
    right_id: str


class ProductPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seller_org_id: str
    kind: str
    title: str
    description: str
    manifest: dict[str, Any]
    public_data: bool
    pricing_class: str
    price: dict[str, Any]
    cap_unit_fen: int | None
    purposes: list[str]
    platform_fee_bp: int
    operator_fee_bp: int
    sharing: dict[str, Any] = {}
    status: str
    assessment: dict[str, Any] | None
    notice_ends_at: datetime | None
    first_listed_at: datetime | None
    decision_note: str | None
    created_at: datetime
    sources: list[SourcePublic] = []
    # Who answers for what (责任边界): in the product's own GET, not in lists or step answers
    responsibilities: list[ResponsibilityPublic] | None = None


class PriceSet(BaseModel):
    price: dict[str, Any]
    platform_fee_bp: int | None = Field(default=None, ge=0, le=10_000)
    operator_fee_bp: int | None = Field(default=None, ge=0, le=10_000)


class CapSet(BaseModel):
    cap_unit_fen: int = Field(ge=1, le=10**13)
    note: str = Field(default="", max_length=2000)


class Assessment(BaseModel):
    passed: bool
    note: str = Field(default="", max_length=5000)


class ReportCreate(BaseModel):
    kind: Literal["quality", "valuation"]
    summary: str = Field(min_length=1, max_length=5000)
    score: int | None = Field(default=None, ge=0, le=100)
    value_fen: int | None = Field(default=None, ge=1, le=10**13)


class ReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    assessor_org_id: str
    kind: str
    summary: str
    score: int | None
    value_fen: int | None
    created_at: datetime


class ListingDecision(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=5000)


class StatusChange(BaseModel):
    to: Literal["suspended", "listed", "delisted", "draft"]
    note: str = Field(default="", max_length=2000)


class QuoteLine(BaseModel):
    tier: int
    units: int
    unit_fen: int
    fen: int


class QuotePublic(BaseModel):
    product_id: str
    purpose: str
    pricing_class: str
    unit: str
    quantity: int
    amount_fen: int
    platform_fee_fen: int
    operator_fee_fen: int
    seller_fen: int
    platform_fee_bp: int
    operator_fee_bp: int
    trial: bool
    lines: list[QuoteLine]
    negotiation_id: str | None
    amount: str  # ¥1,234.56
    basis: str


class NegotiationCreate(BaseModel):
    purpose: str = Field(max_length=40)
    quantity: int = Field(ge=1, le=1_000_000_000)
    amount_fen: int = Field(ge=1, le=10**13)


class NegotiationAnswer(BaseModel):
    answer: Literal["counter", "accept", "decline"]
    amount_fen: int | None = Field(default=None, ge=1, le=10**13)


class NegotiationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    buyer_org_id: str
    purpose: str
    quantity: int
    amount_fen: int
    offers: list[dict[str, Any]]
    status: str
    updated_at: datetime


class PeriodCreate(BaseModel):
    operator_org_id: str = Field(max_length=40)
    starts_at: IsoAwareDateTime
    ends_at: IsoAwareDateTime
    cost_fen: int = Field(ge=0, le=10**13)
    profit_fen: int = Field(ge=0, le=10**13)
    tax_fen: int = Field(ge=0, le=10**13)


class PeriodPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    operator_org_id: str
    starts_at: datetime
    ends_at: datetime
    cost_fen: int
    profit_fen: int
    tax_fen: int
    deduction_fen: int
    revenue_fen: int
    status: str
    previous_id: str | None
    allowed_fen: int = 0


# --- orders ----------------------------------------------------------------------------------


class OrderCreate(BaseModel):
    """An order for ``quantity`` units of a listed product for ``purpose``; a negotiated
    product names the buyer's accepted negotiation. ``days``: the contract's term (by
    default a year, or the hours bought)."""

    product_id: str = Field(max_length=40)
    purpose: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=1_000_000_000)
    justification: str = Field(min_length=10, max_length=5000)
    days: int | None = Field(default=None, ge=1, le=1826)
    negotiation_id: str | None = Field(default=None, max_length=40)


class OrderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    buyer_org_id: str
    seller_org_id: str
    purpose: str
    quantity: int
    unit: str
    pricing_class: str
    amount_fen: int
    platform_fee_fen: int
    operator_fee_fen: int
    seller_fen: int
    quote: dict[str, Any]
    negotiation_id: str | None
    status: str
    request_id: str
    contract_id: str | None
    payment_reference: str | None = None  # quote it in the bank transfer's memo
    amount_due_fen: int | None = None  # what the bank transfer still owes
    delivery_started_at: datetime | None
    accept_by: datetime | None
    delivery: dict[str, Any] | None
    dispute_reason: str | None
    disputed_at: datetime | None
    regulator_asked: bool
    # why it ended: accepted_by_buyer, accepted_automatically, released_on_decision,
    # refunded_on_decision, hold_lapsed, cancelled_by_buyer, request_rejected|withdrawn|expired,
    # contract_declined|revoked|expired
    ended_because: str | None
    certificate: str | None = None  # the transaction certificate's number, once settled
    resolution: str | None  # the ruling's note or the cancellation's reason
    created_at: datetime
    updated_at: datetime


class OrderNote(BaseModel):
    """Why: a cancellation's reason, a dispute's complaint, a note to the regulator."""

    reason: str = Field(default="", max_length=2000)


class OrderDecision(BaseModel):
    outcome: Literal["release", "refund"]
    note: str = Field(min_length=10, max_length=2000)


class CertificateLog(BaseModel):
    index: int = Field(ge=0, le=2**53, strict=True)  # true is not 1
    entry: str  # base64 of the log entry's canonical JSON
    proof: list[str]  # base64 hashes, RFC 6962
    checkpoint: str  # the signed note


class TransactionCertificateFile(BaseModel):
    """A transaction certificate as a party downloads it and anyone checks it offline."""

    document: dict[str, Any]
    signature: str = Field(max_length=200)
    key: str = Field(max_length=200)
    log: CertificateLog | None = None


class CertificateVerdict(BaseModel):
    valid: bool
    problem: str | None
    document: dict[str, Any] | None
    proven_in_checkpoint: int | None  # the log checkpoint the certificate's entry is in
    order_status: str | None


# --- the annual report ----------------------------------------------------------------------


class ReportParty(BaseModel):
    id: str
    name: str
    uscc: str | None


class ReportRevenue(BaseModel):
    revenue_fen: int
    operator_fee_fen: int
    total_fen: int


class ReportPeriod(BaseModel):
    id: str
    starts_at: str
    ends_at: str
    status: str
    allowed_fen: int
    revenue_fen: int
    deduction_fen: int
    excess_fen: int


class ReportProduct(BaseModel):
    id: str
    title: str
    status: str
    pricing_class: str
    price: dict[str, Any]
    cap_unit_fen: int | None
    highest_unit_fen: int
    within_cap: bool
    trial: bool
    orders: int
    units: int
    revenue_fen: int


class ReportFree(BaseModel):
    orders: int
    units: int
    by_purpose: dict[str, int]


class ReportDispute(BaseModel):
    order: str
    status: str
    ended_because: str | None
    amount_fen: int
    regulator_asked: bool


class ReportDisputes(BaseModel):
    count: int
    open: int
    released: int
    refunded: int
    amount_fen: int
    items: list[ReportDispute]


class AnnualReportPublic(BaseModel):
    """年度经营情况报告: amounts in fen."""

    year: int
    operator: ReportParty
    revenue: ReportRevenue
    periods: list[ReportPeriod]
    products: list[ReportProduct]
    free_service: ReportFree
    disputes: ReportDisputes


# --- revenue shares ------------------------------------------------------------------------------


class SharingSet(BaseModel):
    """A product's sharing rule (see ``market.shares``): ``pool_bp``, ``method``, ``roles``,
    ``declared``, ``floors_bp``, ``caps_bp``, ``valuation``; ``{}`` shares nothing."""

    sharing: dict[str, Any]


class SharePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    product_id: str
    org_id: str
    seller_org_id: str
    kind: str
    task: str | None  # a role share's labour: shares.ROLES
    hop: int
    via_order_id: str | None
    amount_fen: int
    exact: str
    evidence: dict[str, Any]
    status: str
    objection_ends_at: datetime
    created_at: datetime
    settled_at: datetime | None


class SharesPublic(BaseModel):
    items: list[SharePublic]
    total: int


class ValuationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    method: str
    params: dict[str, Any]
    seed: int | None
    players: list[str]
    values: dict[str, float]
    evidence: dict[str, Any]
    recomputes_id: str | None
    created_at: datetime


class StatementSharesPublic(BaseModel):
    """A contributor's month: its shares with the evidence each rests on; amounts in fen."""

    org_id: str
    period: str
    lines: list[SharePublic]
    totals: dict[str, int]
    total_fen: int
    valuations: dict[str, dict[str, Any]]


class ObjectionCreate(BaseModel):
    reason: str = Field(min_length=10, max_length=5000)


class ObjectionDecision(BaseModel):
    outcome: Literal["stand", "recompute", "amount"]
    note: str = Field(min_length=10, max_length=5000)
    amount_fen: int | None = Field(default=None, ge=0, le=10**15)


class ObjectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    line_id: str
    org_id: str
    reason: str
    status: str
    regulator_asked: bool
    outcome: dict[str, Any] | None
    resolution: str | None
    created_at: datetime
    decided_at: datetime | None


class SplitLine(BaseModel):
    org_id: str
    org_name: str
    kind: str
    task: str | None  # a role share's labour: shares.ROLES
    hop: int
    amount_fen: int
    share: str


class SplitPreview(BaseModel):
    """How an order of ``seller_fen`` would be split now (weights as they stand)."""

    seller_fen: int
    method: str
    lines: list[SplitLine]
    basis: dict[str, Any]
