"""Console pages of the market domain."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from yaosu.accounts import service as _accounts
from yaosu.accounts import service as accounts
from yaosu.authorization.policy import Resource, decide, enforce
from yaosu.authorization.service import list_purposes
from yaosu.catalog import service as _catalog
from yaosu.console.render import back_with_error, done, render
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, YaosuError
from yaosu.kernel.i18n import N_, Sentences, _, localise
from yaosu.lineage import service as _lineage
from yaosu.market import bank, ledger, settlement
from yaosu.market import certificate_pdf as _certificate_pdf
from yaosu.market import certificates as _certificates
from yaosu.market import listing as _listing
from yaosu.market import negotiation as _negotiation
from yaosu.market import orders as _orders
from yaosu.market import periods as _periods
from yaosu.market import pricing as _pricing
from yaosu.market import products as _products
from yaosu.market import report as _report
from yaosu.market import share_pages as _share_pages
from yaosu.market import sharing as _sharing
from yaosu.market.models import Negotiation
from yaosu.market.schemas import ProductCreate
from yaosu.rights import service as _rights
from yaosu.web.deps import ContextDep, OptionalActor, PageActor, SessionDep, locale

router = APIRouter(include_in_schema=False)
router.include_router(_share_pages.router)  # revenue shares, objections, sharing rules

# --- ledger --------------------------------------------------------------------------------------
# Settlement statements (a participant's own; the platform's and regulators' all), and for
# the platform the reconciliation with the bank statement import and the clearing run.


@router.get("/market/statements")
def statements_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    org: str | None = None,
) -> Response:
    found = settlement.list_statements(session, actor, org_id=org or None)
    return render(
        request,
        actor,
        "ledger_statements.html",
        statements=found,
        names=accounts.org_names(session),
        fen=ledger.yuan,
        can={"ledger.reconcile": decide(actor, "ledger.reconcile", settlement.LEDGER).allowed},
    )


@router.get("/market/reconciliation")
def reconciliation_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    report = settlement.reconciliation(session, actor, lag_days=ctx.settings.settlement_lag_days)
    return render(
        request,
        actor,
        "ledger_reconciliation.html",
        report=report,
        imports=bank.imports(session),
        expected=bank.expectations(session, open_only=True),
        names=accounts.org_names(session),
        latest=settlement.last_clearable(lag_days=ctx.settings.settlement_lag_days),
        lag=ctx.settings.settlement_lag_days,
        fen=ledger.yuan,
        error=error,
        can={
            "ledger.import": decide(actor, "ledger.import", settlement.LEDGER).allowed,
            "ledger.settle": decide(actor, "ledger.settle", settlement.LEDGER).allowed,
        },
    )


@router.post("/market/bank-imports")
def bank_import_form(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    try:
        enforce(actor, "ledger.import", settlement.LEDGER)
        if file is None or not file.filename:
            raise InvalidInput(problem=_("choose the bank statement file (CSV)"))
        data = file.file.read(bank.MAX_FILE_BYTES + 1)
        with session.begin_nested():
            _orders.import_statement(
                session, actor, settings=ctx.settings, data=data, filename=file.filename
            )
    except YaosuError as exc:
        return back_with_error(request, "/market/reconciliation", exc, session=session)
    return done("/market/reconciliation", "ledger.imported")


@router.post("/market/settlements")
def settle_form(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    period: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        enforce(actor, "ledger.settle", settlement.LEDGER)
        try:
            day = date.fromisoformat(period) if period else None
        except ValueError as exc:
            raise InvalidInput(problem=_("{value} is not a date", value=period)) from exc
        with session.begin_nested():
            _certificates.settle(session, actor, settings=ctx.settings, period=day)
    except YaosuError as exc:
        return back_with_error(request, "/market/reconciliation", exc, session=session)
    return done("/market/statements", "ledger.settled")


# --- products ------------------------------------------------------------------------------------
# The market browse page, a product with its price calculator, the listing wizard, the
# listing step page (seller, platform, assessor, reviewers, authorising body) and the desk
# of steps waiting for the reader, and the posted fees of public data.
PRODUCT_PAGES = ("/market", "/market/products/{product_id}", "/market/new", "/market/desk")


_STEP_ACTIONS = (
    "product.submit",
    "product.edit",
    "product.assess",
    "product.publish",
    "product.suspend",
    "product.delist",
    "product.report",
    "product.review",
    "product.cap",
)


def _fen(text: str, what: Any) -> int:
    """Yuan as typed ("0.50", "1,234.56") to whole fen, exactly."""
    try:
        value = Decimal(text.replace(",", "").replace("¥", "").strip())
        exact = value.is_finite() and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact or not 0 < value <= 10**11:
        raise InvalidInput(problem=_("{what}: a sum in yuan, such as 12.50", what=what))
    return int(value * 100)


def _purpose_names(session: Session, lang: str) -> Any:
    names = {
        p.code: (p.name_en if lang.startswith("en") else p.name_zh)
        for p in list_purposes(session, include_retired=True)
    }
    return lambda codes: localise([names.get(c, c) for c in codes], lang)


def _common(session: Session, request: Request) -> dict[str, Any]:
    return {
        "names": _accounts.org_names(session),
        "titles": _catalog.dataset_titles(session),
        "yuan": _pricing.yuan,
        "purpose_names": _purpose_names(session, locale(request)),
    }


def _can(actor: Actor, resource: Resource) -> dict[str, bool]:
    return {a: decide(actor, a, resource).allowed for a in ("product.view", *_STEP_ACTIONS)}


@router.get("/market")
def market_page(
    request: Request,
    actor: OptionalActor,
    session: SessionDep,
    pricing_class: str = "",
    error: str | None = None,
) -> Response:
    listed = _products.list_products(
        session, actor, status="listed", pricing_class=pricing_class[:12] or None
    )
    mine = (
        _products.list_products(session, actor, seller_org_id=actor.org_id) if actor.org_id else []
    )
    create = decide(actor, "product.create", Resource("product", "*", actor.org_id)).allowed
    return render(
        request,
        actor,
        "product_market.html",
        listed=listed,
        noticed=_products.list_products(session, actor, status="in_notice"),
        mine=mine,
        pricing_class=pricing_class[:12],
        error=error,
        can={"product.create": create},
        **_common(session, request),
    )


@router.get("/market/tariffs")
def tariffs_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    found = _products.tariffs(session)
    now = utcnow()
    return render(
        request,
        actor,
        "product_tariffs.html",
        products=found,
        trial={p.id: _pricing.in_trial(p.first_listed_at, now) for p in found},
        **_common(session, request),
    )


def _quote(
    session: Session, actor: Actor, request: Request, product: Any, purpose: str, quantity: str
) -> dict[str, Any]:
    if not purpose:
        return {"quote": None, "quote_error": None}
    try:
        number = int(quantity)
    except ValueError:
        number = 0
    try:
        with session.begin_nested():
            q = _products.quote(
                session, actor, product_id=product.id, purpose=purpose, quantity=number
            )
    except YaosuError as exc:
        return {"quote": None, "quote_error": exc.message(locale(request))}
    return {"quote": q, "quote_error": None}


@router.get("/market/products/{product_id}")
def product_page(
    request: Request,
    product_id: str,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
    purpose: str = "",
    quantity: str = "1",
    example: str = "",
    error: str | None = None,
) -> Response:
    product = _products.get_product(session, actor, product_id=product_id)
    resource = _products.product_resource(session, product=product)
    can = _can(actor, resource)
    shared = _share_pages.product_sharing(
        session,
        actor,
        request=request,
        product=product,
        can=can,
        example=example[:24],
        settings=ctx.settings,
    )
    negotiated = product.price.get("model") == "negotiated"
    can["order.create"] = product.status == "listed" and (
        decide(
            actor,
            "order.create",
            Resource("order", "*", actor.org_id, {"seller": product.seller_org_id}),
        ).allowed
    )
    talks = (
        _negotiation.list_negotiations(session, actor, product_id=product.id)
        if negotiated and actor.org_id
        else []
    )
    ordered = _orders.negotiations_ordered(session, ids=[d.id for d in talks])
    deals = [
        d
        for d in talks
        if can["order.create"]
        and d.status == "accepted"
        and d.buyer_org_id == actor.org_id
        and d.id not in ordered
    ]
    can["negotiation.open"] = (
        negotiated
        and product.status == "listed"
        and decide(
            actor,
            "negotiation.open",
            Resource("negotiation", "*", actor.org_id, {"seller": product.seller_org_id}),
        ).allowed
    )
    answerable = {
        d.id
        for d in talks
        if decide(
            actor, "negotiation.respond", _negotiation.negotiation_resource(session, deal=d)
        ).allowed
        and d.status in ("offered", "countered")
    }
    return render(
        request,
        actor,
        "product.html",
        product=product,
        sources=_products.sources_of(session, product_id=product.id),
        parts=_products.responsibilities(session, product=product),
        reports=_listing.reports_of(session, product_id=product.id),
        reviews=_listing.reviews_of(session, product_id=product.id),
        trial=_pricing.in_trial(product.first_listed_at, utcnow()),
        quotable=not negotiated,
        negotiated=negotiated,
        deals=deals,
        talks=talks,
        answerable=answerable,
        purpose=purpose[:40] or product.purposes[0],
        quantity=quantity[:12],
        steps=any(
            v
            for k, v in can.items()
            if k not in ("product.view", "product.value", "product.sharing")
        ),
        error=error,
        can=can,
        **_quote(session, actor, request, product, purpose[:40], quantity[:12]),
        **shared,
        **_common(session, request),
    )


@router.get("/market/products/{product_id}/lineage")
def product_lineage_page(
    request: Request, product_id: str, actor: OptionalActor, session: SessionDep
) -> Response:
    product = _products.get_product(session, actor, product_id=product_id)
    graph = _lineage.view(
        _products.lineage_of(session, actor, product_id=product.id), lang=locale(request)
    )
    return render(
        request,
        actor,
        "product_lineage.html",
        product=product,
        graph=graph,
        **_common(session, request),
    )


@router.get("/market/products/{product_id}/quote")
def quote_fragment(
    request: Request,
    product_id: str,
    actor: OptionalActor,
    session: SessionDep,
    purpose: str = "",
    quantity: str = "1",
) -> Response:
    """The price calculator's answer, for htmx."""
    product = _products.get_product(session, actor, product_id=product_id)
    return render(
        request,
        actor,
        "product_quote.html",
        **_quote(session, actor, request, product, purpose[:40], quantity[:12]),
        **_common(session, request),
    )


@router.get("/market/products/{product_id}/steps")
def steps_page(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    product = _products.get_product(session, actor, product_id=product_id)
    resource = _products.product_resource(session, product=product)
    can = _can(actor, resource)
    found = None
    if product.status in ("assessing", "in_review") and (
        can["product.assess"] or can["product.report"]
    ):
        found = _listing.findings(session, actor, product=product)
    return render(
        request,
        actor,
        "product_steps.html",
        product=product,
        findings=found,
        blockers=localise(Sentences(found["blockers"]), locale(request)) if found else "",
        error=error,
        can=can,
        **_common(session, request),
    )


def _back(product_id: str) -> str:
    return f"/market/products/{product_id}/steps"


@router.post("/market/products/{product_id}/step")
def step(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    action: Annotated[str, Form(max_length=12)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    moves = {"suspend": "suspended", "resume": "listed", "delist": "delisted", "revise": "draft"}
    try:
        with session.begin_nested():
            if action == "submit":
                _listing.submit(session, actor, product_id=product_id)
            elif action in ("pass", "fail"):
                _listing.assess(
                    session, actor, product_id=product_id, passed=action == "pass", note=note
                )
            elif action == "publish":
                _listing.publish(session, actor, product_id=product_id)
            elif action in moves:
                _listing.change(session, actor, product_id=product_id, to=moves[action], note=note)
            else:
                raise InvalidInput(problem=_("unknown action"))
    except YaosuError as exc:
        return back_with_error(request, _back(product_id), exc, session=session)
    return RedirectResponse(_back(product_id), status_code=303)


@router.post("/market/products/{product_id}/review")
def review_form(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    decision: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        with session.begin_nested():
            if decision not in ("approve", "reject"):
                raise InvalidInput(problem=_("choose a decision"))
            _listing.review(
                session,
                actor,
                settings=ctx.settings,
                product_id=product_id,
                approve=decision == "approve",
                note=note,
            )
    except YaosuError as exc:
        return back_with_error(request, _back(product_id), exc, session=session)
    return RedirectResponse(_back(product_id), status_code=303)


@router.post("/market/products/{product_id}/report")
def report_form(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=12)] = "",
    summary: Annotated[str, Form(max_length=5000)] = "",
    score: Annotated[str, Form(max_length=4)] = "",
    value: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        with session.begin_nested():
            _listing.report(
                session,
                actor,
                product_id=product_id,
                kind=kind,
                summary=summary,
                score=int(score) if score.strip().isdigit() else None,
                value_fen=_fen(value, _("value")) if value.strip() else None,
            )
    except YaosuError as exc:
        return back_with_error(request, _back(product_id), exc, session=session)
    return RedirectResponse(_back(product_id), status_code=303)


@router.post("/market/products/{product_id}/cap")
def cap_form(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    cap: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        with session.begin_nested():
            _products.set_cap(
                session, actor, product_id=product_id, cap_unit_fen=_fen(cap, _("cap"))
            )
    except YaosuError as exc:
        return back_with_error(request, _back(product_id), exc, session=session)
    return RedirectResponse(_back(product_id), status_code=303)


def _operated(session: Session, actor: Actor) -> list[Any]:
    """The datasets the actor's organisation holds an active operation right over."""
    if actor.org_id is None:
        return []
    held = {
        g.object_id
        for g in _rights.list_grants(session, actor, holder_org_id=actor.org_id)
        if g.kind == "operation" and g.status == "active"
    }
    titles = _catalog.dataset_titles(session)
    return [{"id": d, "title": titles.get(d, d)} for d in sorted(held)]


@router.get("/market/new")
def new_page(
    request: Request, actor: PageActor, session: SessionDep, error: str | None = None
) -> Response:
    """The listing wizard."""
    allowed = decide(actor, "product.create", Resource("product", "*", actor.org_id))
    return render(
        request,
        actor,
        "product_new.html",
        sources=_operated(session, actor) if allowed.allowed else [],
        kinds=list(_products.KINDS),
        purposes=list_purposes(session),
        share_methods=_share_pages.METHODS,
        error=error or (None if allowed.allowed else allowed.reason.render(locale(request))),
    )


def _tiers(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in text.replace("，", ",").replace("：", ":").replace(",", "\n").splitlines():
        if not line.strip():
            continue
        bound, _sep, price = line.partition(":")
        if not bound.strip().isdigit() and bound.strip():
            raise InvalidInput(problem=_("tiers: write each as units:price, such as 1000:0.50"))
        out.append(
            {
                "up_to": int(bound) if bound.strip() else None,
                "unit_fen": _fen(price, _("tier price")),
            }
        )
    return out


@router.post("/market/new")
def create_form(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=24)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    dataset: Annotated[str, Form(max_length=40)] = "",
    licence: Annotated[str, Form(max_length=200)] = "CC-BY-4.0",
    public_data: Annotated[str, Form(max_length=4)] = "yes",
    pricing_class: Annotated[str, Form(max_length=12)] = "",
    model: Annotated[str, Form(max_length=12)] = "",
    unit: Annotated[str, Form(max_length=12)] = "count",
    unit_price: Annotated[str, Form(max_length=20)] = "",
    tiers: Annotated[str, Form(max_length=2000)] = "",
    platform_fee_bp: Annotated[int, Form(ge=0, le=10_000)] = 0,
    operator_fee_bp: Annotated[int, Form(ge=0, le=10_000)] = 0,
    purposes: Annotated[list[str] | None, Form()] = None,
    sharing_pool: Annotated[str, Form(max_length=12)] = "",
    sharing_method: Annotated[str, Form(max_length=16)] = "declared",
    sharing_rest: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    try:
        sharing = _wizard_sharing(session, sharing_pool, sharing_method, sharing_rest)
        price: dict[str, Any] = {"model": model, "unit": unit}
        if model == "fixed":
            price["unit_fen"] = _fen(unit_price, _("price"))
        if model == "tiered":
            price["tiers"] = _tiers(tiers)
        try:
            data = ProductCreate.model_validate(
                {
                    "kind": kind,
                    "title": title,
                    "description": description,
                    "sources": [{"dataset_id": dataset}],
                    "licence": licence or "CC-BY-4.0",
                    "public_data": public_data == "yes",
                    "pricing_class": pricing_class,
                    "price": price,
                    "purposes": [p[:40] for p in (purposes or [])][:20],
                    "platform_fee_bp": platform_fee_bp,
                    "operator_fee_bp": operator_fee_bp,
                    "sharing": sharing,
                }
            )
        except ValueError:
            raise InvalidInput(
                problem=_("fill in the kind, a title, a source, the pricing class and a purpose")
            ) from None
        with session.begin_nested():
            product = _products.create_product(session, actor, data=data)
    except YaosuError as exc:
        return back_with_error(request, "/market/new", exc, session=session)
    return RedirectResponse(f"/market/products/{product.id}/steps", status_code=303)


def _wizard_sharing(session: Session, pool: str, method: str, rest: str) -> dict[str, Any] | None:
    """The wizard's optional sharing rule: the pool in percent, the method, and the rest of
    the rule (roles, declared weights, floors, caps, the valuation's parameters) as JSON,
    organisations named by id or by name. Nothing typed: no rule."""
    doc = _share_pages.parse_json(rest, _("the rest of the sharing rule")) or {}
    if not pool.strip() and not doc:
        return None
    by_name = {name: org_id for org_id, name in _accounts.org_names(session).items()}

    def org(value: Any) -> Any:
        return by_name.get(value, value) if isinstance(value, str) else value

    for key in ("declared", "floors_bp", "caps_bp"):
        if isinstance(doc.get(key), dict):
            doc[key] = {org(k): v for k, v in doc[key].items()}
    for r in doc.get("roles") or []:
        if isinstance(r, dict) and "org_id" in r:
            r["org_id"] = org(r["org_id"])
    if pool.strip():
        doc["pool_bp"] = _share_pages.percent_bp(pool, _("the contributors' pool"))
    doc.setdefault("method", method or "declared")
    return doc


# Which listing step waits for whom (a msgid per step).
_WAITING = {
    "draft": ("product.submit", N_("submit it for assessment")),
    "assessing": ("product.assess", N_("conclude the compliance assessment")),
    "in_review": ("product.review", N_("review the listing")),
    "in_notice": ("product.publish", N_("list it when the notice ends")),
    "rejected": ("product.edit", N_("revise it")),
}


@router.get("/market/desk")
def desk_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    """What listing step waits for the reader: assessments, reports, reviews, publishing."""
    waiting = []
    for product in _products.list_products(session, actor):
        resource = _products.product_resource(session, product=product)
        step = _WAITING.get(product.status)
        if step and decide(actor, step[0], resource).allowed:
            if step[0] == "product.review" and not any(
                r.reviewer_org_id == actor.org_id and r.status == "pending"
                for r in _listing.reviews_of(session, product_id=product.id)
            ):
                continue
            waiting.append((product, step[1]))
        elif product.status == "assessing" and decide(actor, "product.report", resource).allowed:
            waiting.append((product, N_("attach a quality or valuation report")))
    return render(request, actor, "product_desk.html", waiting=waiting, **_common(session, request))


# --- orders ----------------------------------------------------------------------------------
ORDER_STEPS = {
    "accept": "order.accept",
    "dispute": "order.dispute",
    "escalate": "order.escalate",
    "resolve": "order.resolve",
    "cancel": "order.cancel",
}


def _order_back(order_id: str) -> str:
    return f"/market/orders/{order_id}"


@router.post("/market/products/{product_id}/order")
def order_form(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    purpose: Annotated[str, Form(max_length=40)] = "",
    quantity: Annotated[str, Form(max_length=12)] = "",
    justification: Annotated[str, Form(max_length=5000)] = "",
    negotiation_id: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        try:
            number = int(quantity)
        except ValueError:
            raise InvalidInput(problem=_("the quantity is a whole number of units")) from None
        with session.begin_nested():
            made = _orders.place(
                session,
                actor,
                settings=ctx.settings,
                product_id=product_id,
                purpose=purpose,
                quantity=number,
                justification=justification,
                negotiation_id=negotiation_id or None,
            )
    except YaosuError as exc:
        return back_with_error(request, f"/market/products/{product_id}", exc, session=session)
    return done(_order_back(made.id), "order.placed")


@router.get("/market/orders")
def orders_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    side: str = "",
    error: str | None = None,
) -> Response:
    chosen = side if side in ("buying", "selling") else None
    found = _orders.list_orders(session, actor, side=chosen)
    titles = {p.id: p.title for p in _products.list_products(session, actor)}
    return render(
        request,
        actor,
        "order_list.html",
        orders=found,
        side=chosen or "",
        product_titles=titles,
        error=error,
        **_common(session, request),
    )


@router.get("/market/orders/{order_id}")
def order_page(
    request: Request,
    order_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    order = _orders.get_order(session, actor, order_id=order_id, settings=ctx.settings)
    resource = _orders.order_resource(order)
    can = {a: decide(actor, a, resource).allowed for a in ORDER_STEPS.values()}
    product = _products.get_product(session, actor, product_id=order.product_id)
    return render(
        request,
        actor,
        "order.html",
        order=order,
        product=product,
        expectation=_orders.expectation_of(session, order=order),
        certificate=_certificates.of_order(session, order_id=order.id),
        delivery=order.delivery or _orders.delivered(session, order=order),
        shares=_sharing.lines_of(session, order_id=order.id),
        error=error,
        can=can,
        **_common(session, request),
    )


@router.post("/market/orders/{order_id}/step")
def order_step(
    request: Request,
    order_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    action: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    outcome: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    kw: dict[str, Any] = {"order_id": order_id, "settings": ctx.settings}
    try:
        with session.begin_nested():
            if action == "accept":
                _orders.accept(session, actor, **kw)
            elif action == "dispute":
                _orders.dispute(session, actor, reason=reason, **kw)
            elif action == "escalate":
                _orders.escalate(session, actor, note=reason, **kw)
            elif action == "resolve":
                _orders.resolve(session, actor, outcome=outcome, note=reason, **kw)
            elif action == "cancel":
                _orders.cancel(session, actor, reason=reason, **kw)
            else:
                raise InvalidInput(problem=_("unknown action"))
    except YaosuError as exc:
        return back_with_error(request, _order_back(order_id), exc, session=session)
    return done(_order_back(order_id), "order.changed")


# --- negotiations ---------------------------------------------------------------------------


@router.post("/market/products/{product_id}/negotiations")
def offer_form(
    request: Request,
    product_id: str,
    actor: PageActor,
    session: SessionDep,
    purpose: Annotated[str, Form(max_length=40)] = "",
    quantity: Annotated[str, Form(max_length=12)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A buyer's offer (议价) for a product priced by negotiation."""
    back = f"/market/products/{product_id}"
    try:
        try:
            number = int(quantity)
        except ValueError:
            raise InvalidInput(problem=_("the quantity is a whole number of units")) from None
        with session.begin_nested():
            _negotiation.open_negotiation(
                session,
                actor,
                product_id=product_id,
                purpose=purpose,
                quantity=number,
                amount_fen=_fen(amount, _("the amount offered")),
            )
    except YaosuError as exc:
        return back_with_error(request, back, exc, session=session)
    return RedirectResponse(back, status_code=303)


@router.post("/market/negotiations/{negotiation_id}/answer")
def answer_form(
    request: Request,
    negotiation_id: str,
    actor: PageActor,
    session: SessionDep,
    answer: Annotated[str, Form(max_length=10)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The party whose turn it is counters (with an amount), accepts or declines."""
    try:
        with session.begin_nested():
            deal = _negotiation.respond(
                session,
                actor,
                negotiation_id=negotiation_id,
                answer=answer,
                amount_fen=_fen(amount, _("the counter-offer")) if answer == "counter" else None,
            )
        back = f"/market/products/{deal.product_id}"
    except YaosuError as exc:
        found = session.get(Negotiation, negotiation_id)
        back = f"/market/products/{found.product_id}" if found else "/market"
        return back_with_error(request, back, exc, session=session)
    return RedirectResponse(back, status_code=303)


# --- transaction certificates ----------------------------------------------------------------


def _checked(session: Session, number: str, check: str) -> Any:
    found = _certificates.find_checked(session, number=number[:24], check=check[:16])
    if found is None:
        raise NotFound(kind=_("Transaction certificate"), id=number[:24])
    return found


@router.get("/market/certificates/{number}/{check}")
def certificate_page(
    request: Request,
    number: str,
    check: str,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """Public, by number and verification code (as printed and in the QR code): the verdict
    on the certificate (signature, inclusion in the log) and what it says."""
    cert = _checked(session, number, check)
    verdict = _certificates.verdict(
        session,
        settings=ctx.settings,
        certificate=_certificates.certificate_file(session, cert=cert),
    )
    return render(
        request,
        actor,
        "transaction_certificate.html",
        cert=cert,
        doc=cert.document,
        parts=cert.document.get("responsibilities") or [],  # as signed; none before they were
        verdict=verdict,
        **_common(session, request),
    )


@router.get("/market/certificates/{number}/{check}/file")
def certificate_download(number: str, check: str, session: SessionDep) -> Response:
    cert = _checked(session, number, check)
    body = json.dumps(
        _certificates.certificate_file(session, cert=cert), ensure_ascii=False, indent=2
    )
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{cert.number}.json"'},
    )


@router.get("/market/certificates/{number}/{check}/pdf")
def certificate_pdf(request: Request, number: str, check: str, session: SessionDep) -> Response:
    cert = _checked(session, number, check)
    url = str(request.url_for("certificate_page", number=cert.number, check=cert.check))
    data = _certificate_pdf.render(
        cert.document,
        number=cert.number,
        check=cert.check,
        signature=cert.signature,
        url=url,
        lang=locale(request),
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{cert.number}.pdf"'},
    )


# --- the annual report -----------------------------------------------------------------------


@router.get("/market/annual-report")
def annual_report_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    operator: str = "",
    year: str = "",
) -> Response:
    """年度经营情况报告: the operator's own, or for oversight any operator with a period."""
    operators = sorted({p.operator_org_id for p in _periods.list_periods(session, actor)})
    chosen = (
        operator[:40]
        or (actor.org_id if actor.org_id in operators else "")
        or (operators[0] if operators else "")
    )
    this_year = _settlement_year()
    try:
        number = int(year) if year else this_year
    except ValueError:
        number = 0
    report, error = None, None
    if chosen:
        try:
            with session.begin_nested():
                report = _report.annual_report(session, actor, operator_org_id=chosen, year=number)
        except YaosuError as exc:
            error = exc.message(locale(request))
    return render(
        request,
        actor,
        "annual_report.html",
        report=report,
        error=error,
        operators=operators,
        chosen=chosen,
        year=number or this_year,
        **_common(session, request),
    )


def _settlement_year() -> int:
    return settlement.cst_day(utcnow()).year


# --- my revenue ------------------------------------------------------------------------------


@router.get("/market/revenue")
def revenue_page(
    request: Request, actor: PageActor, session: SessionDep, org: str = ""
) -> Response:
    """An organisation's money on the platform: each ledger account's balance (what is posted,
    what is held), and its sales by order status. Its own, or (oversight) any organisation's."""
    org_id = org[:40] or actor.org_id or ""
    enforce(actor, "ledger.view", Resource("ledger", org_id or "*", org_id or None))
    balances = [
        {
            "code": a.code,
            "posted": ledger.balance(a),
            "held": ledger.balance(a, pending=True) - ledger.balance(a),
        }
        for a in ledger.accounts_of(session, org_id=org_id)
    ]
    sales = _orders.sales_by_status(session, actor, seller_org_id=org_id) if org_id else {}
    return render(
        request,
        actor,
        "ledger_revenue.html",
        org_id=org_id,
        balances=balances,
        sales=sales,
        **_common(session, request),
    )
