"""HTTP routes of the market domain."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.accounts.schemas import ResponsibilityPublic
from yaosu.kernel.errors import NotFound
from yaosu.kernel.i18n import _
from yaosu.lineage.schemas import GraphPublic
from yaosu.market import bank, settlement
from yaosu.market import certificates as _certificates
from yaosu.market import dcat as _dcat  # noqa: F401  (listed products join the DCAT catalog)
from yaosu.market import listing as _listing
from yaosu.market import negotiation as _negotiation
from yaosu.market import objections as _objections
from yaosu.market import orders as _orders
from yaosu.market import periods as _periods
from yaosu.market import pricing as _pricing
from yaosu.market import products as _products
from yaosu.market import report as _report
from yaosu.market import sharing as _sharing
from yaosu.market import valuations as _valuations
from yaosu.market.schemas import (
    AnnualReportPublic,
    Assessment,
    BankImportPublic,
    BankLinePublic,
    CapSet,
    CertificateVerdict,
    ListingDecision,
    NegotiationAnswer,
    NegotiationCreate,
    NegotiationPublic,
    ObjectionCreate,
    ObjectionDecision,
    ObjectionPublic,
    OrderCreate,
    OrderDecision,
    OrderNote,
    OrderPublic,
    PeriodCreate,
    PeriodPublic,
    PriceSet,
    ProductCreate,
    ProductPublic,
    QuoteLine,
    QuotePublic,
    ReconciliationPublic,
    ReportCreate,
    ReportPublic,
    SettlementRun,
    SharePublic,
    SharesPublic,
    SharingSet,
    SourcePublic,
    SplitLine,
    SplitPreview,
    StatementPublic,
    StatementSharesPublic,
    StatusChange,
    TransactionCertificateFile,
    ValuationPublic,
)
from yaosu.tasks.schemas import TaskPublic
from yaosu.web.deps import (
    ContextDep,
    CurrentActor,
    OptionalActor,
    SessionDep,
    locale,
)
from yaosu.web.params import IsoDate

router = APIRouter(prefix="/api/v1", tags=["market"])

# --- ledger --------------------------------------------------------------------------------------


@router.get("/market/statements", response_model=list[StatementPublic])
def statements(
    actor: CurrentActor,
    session: SessionDep,
    org_id: Annotated[str | None, Query(max_length=40)] = None,
    period: IsoDate | None = None,
) -> list[StatementPublic]:
    """Settlement statements you may see: your organisation's, and for the platform and
    regulators everyone's; newest day first."""
    found = settlement.list_statements(session, actor, org_id=org_id, period=period)
    return [StatementPublic.model_validate(s) for s in found]


@router.get("/market/statements/{statement_id}", response_model=StatementPublic)
def statement(statement_id: str, actor: CurrentActor, session: SessionDep) -> StatementPublic:
    return StatementPublic.model_validate(
        settlement.get_statement(session, actor, statement_id=statement_id)
    )


@router.post("/market/settlements", response_model=list[StatementPublic])
def settle(
    body: SettlementRun, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> list[StatementPublic]:
    """Clear a day (platform administrators): the statements of every participant that moved
    money that day, and a transaction certificate for each order released that day; a
    settled day answers with the statements it has."""
    made = _certificates.settle(session, actor, settings=ctx.settings, period=body.period)
    return [StatementPublic.model_validate(s) for s in made]


@router.get("/market/reconciliation", response_model=ReconciliationPublic)
def reconciliation(
    actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> ReconciliationPublic:
    """Ledger = statements = bank, for the platform and regulators."""
    report = settlement.reconciliation(session, actor, lag_days=ctx.settings.settlement_lag_days)
    return ReconciliationPublic(**report)


@router.post("/market/bank-imports", response_model=BankImportPublic, status_code=201)
def import_bank_statement(
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    data: Annotated[bytes, Body(media_type="text/csv")],
    filename: Annotated[str, Query(min_length=1, max_length=200)] = "statement.csv",
) -> BankImportPublic:
    """Import a bank statement CSV (the raw body; GBK or UTF-8; ICBC, CCB, ABC or the plain
    layout) and match its incoming payments: matched, partial, unmatched; the orders paid
    begin their delivery. The same file twice is refused; a malformed row refuses the file with its row number."""
    done = _orders.import_statement(
        session, actor, settings=ctx.settings, data=data, filename=filename
    )
    out = BankImportPublic.model_validate(done)
    out.lines = [
        BankLinePublic.model_validate(x) for x in bank.lines_of(session, import_id=done.id)
    ]
    return out


@router.get("/market/bank-imports/{import_id}", response_model=BankImportPublic)
def bank_statement(import_id: str, actor: CurrentActor, session: SessionDep) -> BankImportPublic:
    """An imported bank statement and its lines (the platform and regulators)."""
    found = bank.get_import(session, actor, import_id=import_id)
    out = BankImportPublic.model_validate(found)
    out.lines = [
        BankLinePublic.model_validate(x) for x in bank.lines_of(session, import_id=found.id)
    ]
    return out


# --- products ------------------------------------------------------------------------------------


def product_public(session: Session, product: Any, *, parts: bool = False) -> ProductPublic:
    """A product and its sources; with ``parts``, who answers for what (the product's own
    ``GET``: lists and the answers to its steps leave it out)."""
    out = ProductPublic.model_validate(product)
    out.sources = [
        SourcePublic.model_validate(s) for s in _products.sources_of(session, product_id=out.id)
    ]
    if parts:
        out.responsibilities = [
            ResponsibilityPublic.model_validate(p)
            for p in _products.responsibilities(session, product=product)
        ]
    return out


def quote_public(q: _pricing.Quote, lang: str) -> QuotePublic:
    return QuotePublic(
        **{
            k: getattr(q, k)
            for k in QuotePublic.model_fields
            if k not in ("lines", "amount", "basis")
        },
        lines=[
            QuoteLine(tier=x.tier, units=x.units, unit_fen=x.unit_fen, fen=x.fen) for x in q.lines
        ],
        amount=_pricing.yuan(q.amount_fen),
        basis=q.basis.render(lang) if q.basis else "",
    )


def period_public(period: object) -> PeriodPublic:
    out = PeriodPublic.model_validate(period)
    out.allowed_fen = _periods.allowed_fen(period)  # type: ignore[arg-type]
    return out


@router.get("/market/products", response_model=list[ProductPublic])
def products(
    actor: OptionalActor,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=12)] = None,
    pricing_class: Annotated[str | None, Query(max_length=12)] = None,
) -> list[ProductPublic]:
    """Data products you may see: listed ones (and those in public notice) for everyone,
    your own, those your organisation reviews, and for oversight all."""
    found = _products.list_products(session, actor, status=status, pricing_class=pricing_class)
    return [product_public(session, p) for p in found]


@router.post("/market/products", response_model=ProductPublic, status_code=201)
def create_product(body: ProductCreate, actor: CurrentActor, session: SessionDep) -> ProductPublic:
    """A draft product over dataset versions you hold the product-operation right (经营权)
    over; its manifest is a Frictionless Data Package descriptor (made from the sources when
    left out)."""
    return product_public(session, _products.create_product(session, actor, data=body))


@router.get("/market/products/{product_id}", response_model=ProductPublic)
def product(product_id: str, actor: OptionalActor, session: SessionDep) -> ProductPublic:
    """A product you may see, its sources, and who answers for what (责任边界)."""
    found = _products.get_product(session, actor, product_id=product_id)
    return product_public(session, found, parts=True)


@router.get("/market/products/{product_id}/lineage", response_model=GraphPublic)
def product_lineage(product_id: str, actor: OptionalActor, session: SessionDep) -> GraphPublic:
    """The product's lineage (OpenLineage runs): the versions it is made from and how each
    was made, who collected, processed and operates them, the rights they rest on."""
    g = _products.lineage_of(session, actor, product_id=product_id)
    return GraphPublic(**g.as_json())


@router.put("/market/products/{product_id}/price", response_model=ProductPublic)
def set_price(
    product_id: str, body: PriceSet, actor: CurrentActor, session: SessionDep
) -> ProductPublic:
    """The seller reprices a draft or rejected product (never above its cap)."""
    done = _products.set_price(
        session,
        actor,
        product_id=product_id,
        price=body.price,
        platform_fee_bp=body.platform_fee_bp,
        operator_fee_bp=body.operator_fee_bp,
    )
    return product_public(session, done)


@router.put("/market/products/{product_id}/cap", response_model=ProductPublic)
def set_cap(
    product_id: str, body: CapSet, actor: CurrentActor, session: SessionDep
) -> ProductPublic:
    """The authorising body (数据局) sets a public-data product's 上限收费标准 per unit."""
    done = _products.set_cap(
        session, actor, product_id=product_id, cap_unit_fen=body.cap_unit_fen, note=body.note
    )
    return product_public(session, done)


@router.post("/market/products/{product_id}/submit", response_model=ProductPublic)
def submit(product_id: str, actor: CurrentActor, session: SessionDep) -> ProductPublic:
    """The seller submits its draft to the compliance assessment (合规评估)."""
    return product_public(session, _listing.submit(session, actor, product_id=product_id))


@router.post("/market/products/{product_id}/assessment", response_model=ProductPublic)
def assess(
    product_id: str, body: Assessment, actor: CurrentActor, session: SessionDep
) -> ProductPublic:
    """The platform concludes the assessment: passed (to review) or failed (rejected)."""
    done = _listing.assess(
        session, actor, product_id=product_id, passed=body.passed, note=body.note
    )
    return product_public(session, done)


@router.post("/market/products/{product_id}/reports", response_model=ReportPublic, status_code=201)
def report(
    product_id: str, body: ReportCreate, actor: CurrentActor, session: SessionDep
) -> ReportPublic:
    """An assessor organisation attaches a quality or valuation report during assessment."""
    done = _listing.report(session, actor, product_id=product_id, **body.model_dump())
    return ReportPublic.model_validate(done)


@router.post("/market/products/{product_id}/reviews", response_model=ProductPublic)
def review(
    product_id: str,
    body: ListingDecision,
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
) -> ProductPublic:
    """A reviewing organisation (provider, 数据局, 网信) approves or rejects the listing."""
    done = _listing.review(
        session,
        actor,
        settings=ctx.settings,
        product_id=product_id,
        approve=body.approve,
        note=body.note,
    )
    return product_public(session, done)


@router.post("/market/products/{product_id}/publish", response_model=ProductPublic)
def publish(product_id: str, actor: CurrentActor, session: SessionDep) -> ProductPublic:
    """After the public notice: listed (挂牌)."""
    return product_public(session, _listing.publish(session, actor, product_id=product_id))


@router.post("/market/products/{product_id}/status", response_model=ProductPublic)
def change_status(
    product_id: str, body: StatusChange, actor: CurrentActor, session: SessionDep
) -> ProductPublic:
    """Suspend, resume or delist a listed product; send a rejected one back to draft."""
    done = _listing.change(session, actor, product_id=product_id, to=body.to, note=body.note)
    return product_public(session, done)


@router.get("/market/products/{product_id}/quote", response_model=QuotePublic)
def quote(
    product_id: str,
    request: Request,
    actor: OptionalActor,
    session: SessionDep,
    purpose: Annotated[str, Query(max_length=40)],
    quantity: Annotated[int, Query(ge=1, le=_pricing.MAX_QUANTITY)],
    negotiation: Annotated[str | None, Query(max_length=40)] = None,
) -> QuotePublic:
    """What ``quantity`` units for ``purpose`` cost, in fen, with the platform's and the
    operator's fees broken out. Free purposes pay 0."""
    q = _products.quote(
        session,
        actor,
        product_id=product_id,
        purpose=purpose,
        quantity=quantity,
        negotiation_id=negotiation,
    )
    return quote_public(q, locale(request))


@router.get("/market/tariffs", response_model=list[ProductPublic])
def tariffs(session: SessionDep) -> list[ProductPublic]:
    """The publicly posted fees of public data (公开收费标准): every listed capped product
    with its price rule, its cap and when its trial year began."""
    return [product_public(session, p) for p in _products.tariffs(session)]


@router.post(
    "/market/products/{product_id}/negotiations",
    response_model=NegotiationPublic,
    status_code=201,
)
def open_negotiation(
    product_id: str, body: NegotiationCreate, actor: CurrentActor, session: SessionDep
) -> NegotiationPublic:
    """A buyer's quote for a product priced by negotiation."""
    deal = _negotiation.open_negotiation(session, actor, product_id=product_id, **body.model_dump())
    return NegotiationPublic.model_validate(deal)


@router.get("/market/negotiations", response_model=list[NegotiationPublic])
def negotiations(actor: CurrentActor, session: SessionDep) -> list[NegotiationPublic]:
    return [
        NegotiationPublic.model_validate(n) for n in _negotiation.list_negotiations(session, actor)
    ]


@router.post("/market/negotiations/{negotiation_id}/answer", response_model=NegotiationPublic)
def answer(
    negotiation_id: str, body: NegotiationAnswer, actor: CurrentActor, session: SessionDep
) -> NegotiationPublic:
    """The party whose turn it is counters, accepts or declines."""
    deal = _negotiation.respond(
        session,
        actor,
        negotiation_id=negotiation_id,
        answer=body.answer,
        amount_fen=body.amount_fen,
    )
    return NegotiationPublic.model_validate(deal)


@router.get("/market/periods", response_model=list[PeriodPublic])
def periods(actor: CurrentActor, session: SessionDep) -> list[PeriodPublic]:
    """Operators' revenue periods (最高准许收入): your own, and for oversight all."""
    return [period_public(p) for p in _periods.list_periods(session, actor)]


@router.post("/market/periods", response_model=PeriodPublic, status_code=201)
def open_period(body: PeriodCreate, actor: CurrentActor, session: SessionDep) -> PeriodPublic:
    """The authorising body opens an operator's period: cost + allowed profit + tax, less the
    previous period's excess."""
    return period_public(_periods.open_period(session, actor, **body.model_dump()))


@router.post("/market/periods/{period_id}/close", response_model=PeriodPublic)
def close_period(period_id: str, actor: CurrentActor, session: SessionDep) -> PeriodPublic:
    return period_public(_periods.close_period(session, actor, period_id=period_id))


# --- orders ----------------------------------------------------------------------------------


def order_public(session: Session, order: object) -> OrderPublic:
    out = OrderPublic.model_validate(order)
    expectation = _orders.expectation_of(session, order=order)  # type: ignore[arg-type]
    if expectation is not None:
        out.payment_reference = expectation.reference
        out.amount_due_fen = expectation.amount - expectation.received
    cert = _certificates.of_order(session, order_id=out.id)
    out.certificate = cert.number if cert else None
    return out


@router.post("/market/orders", response_model=OrderPublic, status_code=201)
def place_order(
    body: OrderCreate, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> OrderPublic:
    """Order a listed product: priced now, and an access request for its terms filed (the
    reviews the data needs still happen). Once the contract is in force a paid order waits
    for a bank transfer quoting its ``payment_reference``."""
    order = _orders.place(
        session,
        actor,
        settings=ctx.settings,
        product_id=body.product_id,
        purpose=body.purpose,
        quantity=body.quantity,
        justification=body.justification,
        days=body.days,
        negotiation_id=body.negotiation_id,
    )
    return order_public(session, order)


@router.get("/market/orders", response_model=list[OrderPublic])
def orders(
    actor: CurrentActor,
    session: SessionDep,
    side: Annotated[Literal["buying", "selling"] | None, Query()] = None,
    status: Annotated[str | None, Query(max_length=18)] = None,
    product_id: Annotated[str | None, Query(max_length=40)] = None,
) -> list[OrderPublic]:
    """Orders you may see: your organisation's purchases and sales, for oversight all."""
    found = _orders.list_orders(session, actor, side=side, status=status, product_id=product_id)
    return [order_public(session, o) for o in found]


@router.get("/market/orders/{order_id}", response_model=OrderPublic)
def order(order_id: str, actor: CurrentActor, session: SessionDep, ctx: ContextDep) -> OrderPublic:
    """An order, brought up to date with its request, contract, payment and deadlines."""
    found = _orders.get_order(session, actor, order_id=order_id, settings=ctx.settings)
    return order_public(session, found)


@router.post("/market/orders/{order_id}/acceptance", response_model=OrderPublic)
def accept_order(
    order_id: str, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> OrderPublic:
    """验收: the buyer accepts the delivery; the escrow is released to the seller side."""
    done = _orders.accept(session, actor, order_id=order_id, settings=ctx.settings)
    return order_public(session, done)


@router.post("/market/orders/{order_id}/dispute", response_model=OrderPublic)
def dispute_order(
    order_id: str, body: OrderNote, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> OrderPublic:
    """The buyer disputes the delivery (with its reason): the escrow stays frozen."""
    done = _orders.dispute(
        session, actor, order_id=order_id, reason=body.reason, settings=ctx.settings
    )
    return order_public(session, done)


@router.post("/market/orders/{order_id}/escalation", response_model=OrderPublic)
def escalate_order(
    order_id: str, body: OrderNote, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> OrderPublic:
    """Either party asks a regulator to look at the dispute, and decide it."""
    done = _orders.escalate(
        session, actor, order_id=order_id, note=body.reason, settings=ctx.settings
    )
    return order_public(session, done)


@router.post("/market/orders/{order_id}/decision", response_model=OrderPublic)
def resolve_order(
    order_id: str, body: OrderDecision, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> OrderPublic:
    """The platform (or the regulator a party asked) decides a dispute: ``release`` or
    ``refund``."""
    done = _orders.resolve(
        session,
        actor,
        order_id=order_id,
        outcome=body.outcome,
        note=body.note,
        settings=ctx.settings,
    )
    return order_public(session, done)


@router.post("/market/orders/{order_id}/cancellation", response_model=OrderPublic)
def cancel_order(
    order_id: str, body: OrderNote, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> OrderPublic:
    """The buyer cancels before delivery; what was paid is refunded."""
    done = _orders.cancel(
        session, actor, order_id=order_id, reason=body.reason, settings=ctx.settings
    )
    return order_public(session, done)


@router.get("/market/certificates/{number}", response_model=TransactionCertificateFile)
def certificate(number: str, actor: CurrentActor, session: SessionDep) -> Any:
    """A settled order's transaction certificate (its parties and oversight): the signed
    document and, once a checkpoint covers it, its log entry with the inclusion proof.
    Check it offline with ``yaosu market verify``; the keys are ``/api/v1/certificates/key``
    and ``/api/v1/audit/key``."""
    cert = _certificates.get_certificate(session, actor, number=number)
    return _certificates.certificate_file(session, cert=cert)


@router.post("/market/certificates/verify", response_model=CertificateVerdict)
def verify_certificate(
    body: TransactionCertificateFile, session: SessionDep, ctx: ContextDep
) -> CertificateVerdict:
    """Anyone: check a transaction certificate against the platform's keys (the signature,
    the log entry's inclusion in a signed checkpoint) and say what its order's status is."""
    return CertificateVerdict(
        **_certificates.verdict(session, settings=ctx.settings, certificate=body.model_dump())
    )


@router.get("/market/annual-report", response_model=AnnualReportPublic)
def annual_report(
    actor: CurrentActor,
    session: SessionDep,
    operator_org_id: Annotated[str, Query(max_length=40)],
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> AnnualReportPublic:
    """年度经营情况报告 of a public-data operator (the operator, the authorising body, the
    platform): revenue from the ledger beside the allowed revenue, products and their caps,
    free public-welfare service, disputes; amounts in fen."""
    found = _report.annual_report(session, actor, operator_org_id=operator_org_id, year=year)
    return AnnualReportPublic(**found)


# --- revenue shares ------------------------------------------------------------------------------


@router.put("/market/products/{product_id}/sharing", response_model=ProductPublic)
def set_sharing(
    product_id: str, body: SharingSet, actor: CurrentActor, session: SessionDep
) -> ProductPublic:
    """The seller states (or changes, while a draft or rejected) how each sale is shared."""
    done = _products.set_sharing(session, actor, product_id=product_id, rule=body.sharing)
    return product_public(session, done)


@router.get("/market/products/{product_id}/sharing/preview", response_model=SplitPreview)
def sharing_preview(
    product_id: str,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
    seller_fen: Annotated[int, Query(ge=0, le=10**15)] = 100_000,
) -> SplitPreview:
    """How a sale whose seller side is ``seller_fen`` would be split today."""
    planned, basis = _products.split_preview(
        session, actor, product_id=product_id, seller_fen=seller_fen, settings=ctx.settings
    )
    names = accounts.org_names(session, ids=[p.org_id for p in planned])
    product = _products.get_product(session, actor, product_id=product_id)
    return SplitPreview(
        seller_fen=seller_fen,
        method=str((product.sharing or {}).get("method", "declared")),
        basis=basis,
        lines=[
            SplitLine(
                org_id=p.org_id,
                org_name=names.get(p.org_id, p.org_id),
                kind=p.kind,
                task=p.task,
                hop=p.hop,
                amount_fen=p.amount,
                share=f"{p.exact.numerator}/{p.exact.denominator}",
            )
            for p in planned
        ],
    )


@router.post("/market/products/{product_id}/valuations", response_model=TaskPublic, status_code=202)
def value_product(
    product_id: str, request: Request, actor: CurrentActor, session: SessionDep
) -> JSONResponse:
    """Queues the valuation of the contributors by the product's rule, computed inside the
    platform (the data never leaves): a background task (follow it at ``Location``); its
    values and evidence are kept for every later split."""
    task = _valuations.submit(session, actor, product_id=product_id)
    body = TaskPublic.of(task, locale(request)).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/tasks/{task.id}"})


@router.get("/market/products/{product_id}/valuations/latest", response_model=ValuationPublic)
def latest_valuation(product_id: str, actor: OptionalActor, session: SessionDep) -> ValuationPublic:
    """The valuation today's splits use (404 while there is none)."""
    found = _valuations.latest(session, actor, product_id=product_id)
    if found is None:
        raise NotFound(kind=_("Valuation"), id=product_id)
    return ValuationPublic.model_validate(found)


@router.get("/market/shares", response_model=SharesPublic)
def shares_list(
    actor: CurrentActor,
    session: SessionDep,
    org_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> SharesPublic:
    """Shares you may see: owed to your organisation, or from your sales; oversight: all."""
    found = _sharing.list_lines(session, actor, org_id=org_id, limit=limit)
    return SharesPublic(items=[SharePublic.model_validate(x) for x in found], total=len(found))


@router.get("/market/shares/statement", response_model=StatementSharesPublic)
def shares_statement(
    actor: CurrentActor,
    session: SessionDep,
    org_id: Annotated[str, Query(max_length=40)],
    year: Annotated[int, Query(ge=2000, le=2200)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> StatementSharesPublic:
    """A contributor's statement for a month, with the evidence each share rests on."""
    found = _sharing.statement(session, actor, org_id=org_id, year=year, month=month)
    return StatementSharesPublic(
        **{k: v for k, v in found.items() if k != "lines"},
        lines=[SharePublic.model_validate(x) for x in found["lines"]],
    )


@router.post("/market/shares/{line_id}/objection", response_model=ObjectionPublic, status_code=201)
def object_to_share(
    line_id: str, body: ObjectionCreate, actor: CurrentActor, session: SessionDep
) -> ObjectionPublic:
    """The party objects to its share while it is held: the share is frozen."""
    found = _objections.object_to(session, actor, line_id=line_id, reason=body.reason)
    return ObjectionPublic.model_validate(found)


@router.post("/market/objections/{objection_id}/escalation", response_model=ObjectionPublic)
def escalate_objection(
    objection_id: str, actor: CurrentActor, session: SessionDep
) -> ObjectionPublic:
    """The party or the seller asks a regulator to decide the objection."""
    found = _objections.escalate(session, actor, objection_id=objection_id)
    return ObjectionPublic.model_validate(found)


@router.post("/market/objections/{objection_id}/decision", response_model=ObjectionPublic)
def decide_objection(
    objection_id: str, body: ObjectionDecision, actor: CurrentActor, ctx: ContextDep
) -> ObjectionPublic:
    """The platform (or a regulator a party asked) decides: ``stand``, ``recompute`` (with
    the seed the evidence states) or ``amount``; the share is then paid or returned."""
    found = _objections.run_decision(
        ctx,
        actor,
        objection_id=objection_id,
        outcome=body.outcome,
        note=body.note,
        amount_fen=body.amount_fen,
    )
    return ObjectionPublic.model_validate(found)
