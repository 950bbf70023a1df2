"""Data products: what the market sells.

Five kinds: a governed-query service over a dataset, an extract subscription, a compute
service (compute-to-data comes with a later issue: such a product can be drafted, not yet
listed), a released result or model, and a whole dataset version of open data. Each has a
manifest (a Frictionless Data Package descriptor, ``manifest``), a lineage to the registered
dataset versions it is made from, each with the product-operation right (经营权) over it
that the seller holds (refused without), a pricing class with its price rule (``pricing``),
the purposes it may be bought for, and the platform's and the operator's fees in basis
points. Orders (a later round) build on ``get_product``, ``product_terms`` and ``quote``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.catalog import versions
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import Message, Sentences, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.lineage import service as lineage
from yaosu.market import ledger, pricing, shares, sharing
from yaosu.market import manifest as manifests
from yaosu.market.models import ListingReview, Negotiation, Order, Product, ProductSource
from yaosu.market.states import ListingState, NegotiationState
from yaosu.rights import service as rights

# product kind -> the operation a contract for it permits
KINDS = {
    "query_service": Operation.aggregate,  # governed SQL over the data, aggregates only
    "extract_subscription": Operation.extract,  # de-identified extracts, delivered again
    "compute_service": Operation.compute,  # compute-to-data (a later issue)
    "release": Operation.download,  # a released result or model
    "dataset_version": Operation.download,  # a whole version of open data
}
# Kinds that can be drafted but not yet listed, and why.
NOT_YET_LISTED = {
    "compute_service": _(
        "compute-to-data products can be drafted but not yet listed: compute-to-data jobs come with a later issue"
    )
}
EDITABLE = (ListingState.draft, ListingState.rejected)


def product_resource(session: Session, *, product: Product) -> Resource:
    reviewers = list(
        session.scalars(
            select(ListingReview.reviewer_org_id).where(ListingReview.product_id == product.id)
        )
    )
    return Resource(
        "product",
        product.id,
        product.seller_org_id,
        {"status": product.status, "reviewers": reviewers, "public_data": product.public_data},
    )


def _reviewed_by(org_id: str) -> ColumnElement[bool]:
    return Product.id.in_(
        select(ListingReview.product_id).where(ListingReview.reviewer_org_id == org_id)
    )


# ``product_resource`` as SQL, for listings.
ROWS = Rows(
    "product",
    Product.seller_org_id,
    {"status": Product.status, "reviewers": _reviewed_by, "public_data": Product.public_data},
)


def get_product(session: Session, actor: Actor, *, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(kind=_("Data product"), id=product_id)
    enforce(actor, "product.view", product_resource(session, product=product))
    return product


def list_products(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    seller_org_id: str | None = None,
    pricing_class: str | None = None,
    limit: int = 200,
) -> list[Product]:
    """Products the actor may see (``product.view``), newest first."""
    stmt = (
        select(Product)
        .where(visible(actor, "product.view", ROWS))
        .order_by(Product.created_at.desc(), Product.id)
        .limit(limit)
    )
    if status:
        stmt = stmt.where(Product.status == status)
    if seller_org_id:
        stmt = stmt.where(Product.seller_org_id == seller_org_id)
    if pricing_class:
        stmt = stmt.where(Product.pricing_class == pricing_class)
    return list(session.scalars(stmt))


def sources_of(session: Session, *, product_id: str) -> list[ProductSource]:
    return list(
        session.scalars(
            select(ProductSource)
            .where(ProductSource.product_id == product_id)
            .order_by(ProductSource.dataset_id)
        )
    )


# --- making a product ----------------------------------------------------------------------


def _check_terms(
    session: Session,
    *,
    pricing_class: str,
    public_data: bool,
    price: Any,
    purposes: list[str],
    platform_fee_bp: int,
    operator_fee_bp: int,
    cap_unit_fen: int | None,
) -> pricing.PriceRule:
    problems: list[Message] = []
    if pricing_class not in pricing.CLASSES:
        raise InvalidInput(
            problem=_("pricing_class must be one of {classes}", classes=list(pricing.CLASSES))
        )
    if pricing_class == "capped" and not public_data:
        problems.append(_("the capped fee is for public data: a capped product is public data"))
    if pricing_class == "market" and public_data:
        problems.append(
            _("public data used for industry is priced by the capped fee, not at market price")
        )
    if not purposes:
        problems.append(_("name the purposes the product may be bought for"))
    for code in purposes:
        try:
            authorization.active_purpose(session, code=code)
        except InvalidInput as exc:
            problems.append(exc.detail["problem"])
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    pricing.check_fees(platform_fee_bp, operator_fee_bp)
    rule = pricing.parse_rule(price, pricing_class=pricing_class)
    if pricing_class == "capped":
        pricing.check_cap(rule, cap_unit_fen)
    return rule


def _lineage(
    session: Session,
    actor: Actor,
    *,
    seller_org_id: str,
    sources: list[dict[str, Any]],
    purposes: list[str],
) -> list[tuple[Any, Any]]:
    """(version, operation right) for each source; refused unless the seller holds the
    product-operation right (经营权) over each source version, for the product's purposes."""
    if not sources:
        raise InvalidInput(problem=_("name the dataset versions the product is made from"))
    out, problems = [], []
    seen = set()
    for src in sources:
        dataset_id = str(src.get("dataset_id", ""))
        number = src.get("version")
        version = versions.get_version(session, actor, dataset_id=dataset_id, number=number)
        if (version.dataset_id, version.number) in seen:
            continue
        seen.add((version.dataset_id, version.number))
        grant = rights.operation_right(
            session,
            holder_org_id=seller_org_id,
            dataset_id=version.dataset_id,
            sha256=version.sha256,
        )
        if grant is None:
            problems.append(
                _(
                    "the seller holds no registered product-operation right (经营权) over version {version} of dataset {dataset}",
                    version=version.number,
                    dataset=version.dataset_id,
                )
            )
            continue
        outside = [p for p in purposes if grant.purposes and p not in grant.purposes]
        if outside:
            problems.append(
                _(
                    "the operation right {right} does not cover the purposes {purposes}",
                    right=grant.id,
                    purposes=outside,
                )
            )
        out.append((version, grant))
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    return out


def contributors_of(session: Session, *, product_id: str) -> dict[str, str]:
    """``{dataset id: organisation}``: who holds each source, the contributor pool's parties."""
    return sharing.contributors(
        session,
        sources=[{"dataset_id": s.dataset_id} for s in sources_of(session, product_id=product_id)],
    )


def responsibilities(
    session: Session, *, product: Product, buyer_org_id: str | None = None
) -> list[dict[str, Any]]:
    """Who answers for what (责任边界) for a product: the holders of the data it is made from,
    its operator (the seller, under its product-operation right), the platform, and the buyer
    (``buyer_org_id``; None on the product's own page, where anyone may buy). A product names
    no algorithm (its sources are registered dataset versions), so no algorithm provider."""
    sources = sources_of(session, product_id=product.id)
    holders = contributors_of(session, product_id=product.id)
    return accounts.boundaries(
        session,
        providers=[holders[s.dataset_id] for s in sources if s.dataset_id in holders],
        seller=product.seller_org_id,
        consumer=buyer_org_id,
        buyer_to_be=buyer_org_id is None,
        personal=authorization.personal_in(
            session, versions=((s.dataset_id, s.version) for s in sources)
        ),
    )


def _check_sharing(
    session: Session, doc: Any, *, holders: dict[str, str], seller_org_id: str
) -> shares.Rule:
    """The sharing rule, refused unless it pays only organisations that exist and splits its
    pool only among the product's contributors (the holders of its sources)."""
    rule = shares.parse_rule(doc, known_orgs=set(accounts.org_names(session)))
    named = set(rule.declared) | set(rule.floors_bp) | set(rule.caps_bp)
    outside = sorted(named - set(holders.values()))
    if outside:
        raise InvalidInput(
            problem=_(
                "the pool is shared among the holders of the product's sources; {orgs} holds none",
                orgs=outside,
            )
        )
    if any(r.org_id == seller_org_id for r in rule.roles):
        raise InvalidInput(problem=_("the seller keeps the rest: it takes no role share"))
    return rule


def _within_licences(
    session: Session, *, sources: list[dict[str, Any]], purposes: list[str]
) -> None:
    """A product made from data bought on the market stays within each purchase's licence:
    it is offered only for the purpose that data was bought for."""
    problems: list[Message] = []
    for bought in sharing.upstream(session, sources=sources):
        outside = [p for p in purposes if p != bought.purpose]
        if outside:
            problems.append(
                _(
                    "its data was bought (order {order}) for {purpose} only: it cannot be offered for {outside}",
                    order=bought.id,
                    purpose=bought.purpose,
                    outside=outside,
                )
            )
    if problems:
        raise InvalidInput(problem=Sentences(problems))


def create_product(session: Session, actor: Actor, *, data: Any) -> Product:
    """A draft product (``data``: schemas.ProductCreate), refused unless its manifest is a
    valid Data Package of its sources and the seller holds the operation right over each."""
    enforce(actor, "product.create", Resource("product", "*", actor.org_id))
    assert actor.org_id is not None  # product.create needs an organisation
    if data.kind not in KINDS:
        raise InvalidInput(problem=_("kind must be one of {kinds}", kinds=list(KINDS)))
    purposes = list(dict.fromkeys(data.purposes))
    rule = _check_terms(
        session,
        pricing_class=data.pricing_class,
        public_data=data.public_data,
        price=data.price,
        purposes=purposes,
        platform_fee_bp=data.platform_fee_bp,
        operator_fee_bp=data.operator_fee_bp,
        cap_unit_fen=None,
    )
    made_from = _lineage(
        session,
        actor,
        seller_org_id=actor.org_id,
        sources=data.service_sources(),
        purposes=purposes,
    )
    holders = sharing.contributors(
        session, sources=[{"dataset_id": v.dataset_id} for v, _ in made_from]
    )
    share_rule = _check_sharing(session, data.sharing, holders=holders, seller_org_id=actor.org_id)
    _within_licences(
        session,
        sources=[{"dataset_id": v.dataset_id, "version": v.number} for v, _ in made_from],
        purposes=purposes,
    )
    descriptor = data.manifest or manifests.for_versions(
        name=new_id("pkg").lower().replace("_", "-"),
        title=data.title,
        licence=data.licence,
        versions=[(v.dataset_id, v.number, v.sha256, v.columns) for v, _ in made_from],
    )
    checked = manifests.validate(descriptor, hashes={f"sha256:{v.sha256}" for v, _ in made_from})
    now = utcnow()
    product = Product(
        id=new_id("prd"),
        seller_org_id=actor.org_id,
        kind=data.kind,
        title=data.title.strip(),
        description=data.description.strip(),
        manifest=checked,
        public_data=data.public_data,
        pricing_class=data.pricing_class,
        price=rule.as_json(),
        purposes=purposes,
        platform_fee_bp=data.platform_fee_bp,
        operator_fee_bp=data.operator_fee_bp,
        sharing=share_rule.as_json() if share_rule != shares.NO_SHARING else {},
        status=ListingState.draft,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(product)
    session.flush()
    for version, grant in made_from:
        session.add(
            ProductSource(
                id=new_id("psr"),
                product_id=product.id,
                dataset_id=version.dataset_id,
                version=version.number,
                sha256=version.sha256,
                right_id=grant.id,
            )
        )
    session.flush()
    record(
        session,
        actor,
        action="product.create",
        object_type="product",
        object_id=product.id,
        object_org_id=actor.org_id,
        request={
            "kind": data.kind,
            "pricing_class": data.pricing_class,
            "price": rule.as_json(),
            "sharing": product.sharing,
        },
        detail={"sources": [[v.dataset_id, v.number, g.id] for v, g in made_from]},
    )
    _made(session, actor, product, made_from)
    return product


def lineage_of(session: Session, actor: Actor, *, product_id: str) -> lineage.Graph:
    """The product's lineage, back to the uploads its versions came from: shown to whoever
    may see the product (what it rests on is what a buyer is asked to trust)."""
    product = get_product(session, actor, product_id=product_id)
    return lineage.graph(session, start=[lineage.product_name(product.id)], up=True)


def _made(session: Session, actor: Actor, product: Product, sources: list[tuple[Any, Any]]) -> None:
    """The product's lineage: the versions it is made from, each with the chain of title of
    the operation right it rests on, became the operator's product."""
    inputs = [
        replace(
            versions.version_node(session, dataset_id=v.dataset_id, number=v.number),
            rights=tuple(rights.title_chain(session, grant_id=g.id)),
        )
        for v, g in sources
    ]
    lineage.emit(
        session,
        actor,
        job="market.product",
        inputs=inputs,
        outputs=[
            lineage.Node(
                name=lineage.product_name(product.id),
                kind="product",
                title=product.title,
                org_id=product.seller_org_id,
                part="operator",
                link=f"/market/products/{product.id}",
            )
        ],
        audit={"action": "product.create", "object_type": "product", "object_id": product.id},
        detail={"kind": product.kind},
    )


def set_price(
    session: Session,
    actor: Actor,
    *,
    product_id: str,
    price: Any,
    platform_fee_bp: int | None = None,
    operator_fee_bp: int | None = None,
) -> Product:
    """A new price rule (and fees) for a draft or rejected product, within its cap."""
    product = get_product(session, actor, product_id=product_id)
    enforce(actor, "product.edit", product_resource(session, product=product))
    if product.status not in EDITABLE:
        raise NotNow(
            what=_("Data product"),
            id=product.id,
            why=_("its price changes only in draft or after a rejection"),
        )
    platform = product.platform_fee_bp if platform_fee_bp is None else platform_fee_bp
    operator = product.operator_fee_bp if operator_fee_bp is None else operator_fee_bp
    rule = _check_terms(
        session,
        pricing_class=product.pricing_class,
        public_data=product.public_data,
        price=price,
        purposes=product.purposes,
        platform_fee_bp=platform,
        operator_fee_bp=operator,
        cap_unit_fen=product.cap_unit_fen,
    )
    before = product.price
    product.price, product.platform_fee_bp, product.operator_fee_bp = (
        rule.as_json(),
        platform,
        operator,
    )
    product.updated_at = utcnow()
    record(
        session,
        actor,
        action="product.price",
        object_type="product",
        object_id=product.id,
        object_org_id=product.seller_org_id,
        request={"price": rule.as_json(), "platform_fee_bp": platform, "operator_fee_bp": operator},
        detail={"before": before},
    )
    return product


def set_sharing(session: Session, actor: Actor, *, product_id: str, rule: Any) -> Product:
    """A new sharing rule for a draft or rejected product (orders placed keep theirs)."""
    product = get_product(session, actor, product_id=product_id)
    enforce(actor, "product.edit", product_resource(session, product=product))
    if product.status not in EDITABLE:
        raise NotNow(
            what=_("Data product"),
            id=product.id,
            why=_("its sharing rule changes only in draft or after a rejection"),
        )
    checked = _check_sharing(
        session,
        rule,
        holders=contributors_of(session, product_id=product.id),
        seller_org_id=product.seller_org_id,
    )
    before = product.sharing
    product.sharing = checked.as_json() if checked != shares.NO_SHARING else {}
    product.updated_at = utcnow()
    record(
        session,
        actor,
        action="product.sharing",
        object_type="product",
        object_id=product.id,
        object_org_id=product.seller_org_id,
        request={"sharing": product.sharing},
        detail={"before": before},
    )
    return product


def set_cap(
    session: Session, actor: Actor, *, product_id: str, cap_unit_fen: int, note: str = ""
) -> Product:
    """The authorising body's 上限收费标准 for a public-data product, per charge unit. A cap
    below the product's current price is refused: the operator reprices first."""
    product = get_product(session, actor, product_id=product_id)
    enforce(actor, "product.cap", product_resource(session, product=product))
    if not 0 < cap_unit_fen <= pricing.MAX_FEN:
        raise InvalidInput(
            problem=_("the cap must be a whole number of fen from 1 to {max}", max=pricing.MAX_FEN)
        )
    rule = pricing.parse_rule(product.price)
    pricing.check_cap(rule, cap_unit_fen)
    before = product.cap_unit_fen
    product.cap_unit_fen, product.cap_set_by = cap_unit_fen, actor.id
    product.updated_at = utcnow()
    record(
        session,
        actor,
        action="product.cap",
        object_type="product",
        object_id=product.id,
        object_org_id=product.seller_org_id,
        request={"cap_unit_fen": cap_unit_fen, "note": note},
        detail={"before": before},
    )
    return product


# --- what orders build on --------------------------------------------------------------------


def product_terms(session: Session, *, product: Product) -> dict[str, Any]:
    """The terms an order's contract takes from the product: the operation its kind permits,
    each source version with the fields its manifest names, the purposes, the price rule
    and the fees."""
    fields: dict[str, list[str]] = {}
    resources = {r.get("hash"): r for r in product.manifest.get("resources", [])}
    sources = sources_of(session, product_id=product.id)
    for src in sources:
        res = resources.get(f"sha256:{src.sha256}", {})
        fields[src.dataset_id] = [f["name"] for f in res.get("schema", {}).get("fields", [])]
    return {
        "product_id": product.id,
        "kind": product.kind,
        "operation": str(KINDS[product.kind]),
        "datasets": fields,
        "sources": [
            {
                "dataset_id": s.dataset_id,
                "version": s.version,
                "sha256": s.sha256,
                "right_id": s.right_id,
            }
            for s in sources
        ],
        "purposes": list(product.purposes),
        "pricing_class": product.pricing_class,
        "price": dict(product.price),
        "cap_unit_fen": product.cap_unit_fen,
        "platform_fee_bp": product.platform_fee_bp,
        "operator_fee_bp": product.operator_fee_bp,
        "seller_org_id": product.seller_org_id,
        "sharing": dict(product.sharing or {}),
        "contributors": sharing.contributors(
            session, sources=[{"dataset_id": s.dataset_id} for s in sources]
        ),
    }


def quote(
    session: Session,
    actor: Actor,
    *,
    product_id: str,
    purpose: str,
    quantity: int,
    negotiation_id: str | None = None,
) -> pricing.Quote:
    """What ``quantity`` units for ``purpose`` cost, in fen, fees broken out. A purpose whose
    pricing is free pays 0; a negotiated price needs the buyer's accepted negotiation."""
    product = get_product(session, actor, product_id=product_id)
    quantity = pricing.check_quantity(quantity)
    if purpose not in product.purposes:
        raise InvalidInput(
            problem=_(
                "this product is offered for {purposes}, not {purpose}",
                purposes=product.purposes,
                purpose=purpose,
            )
        )
    code = authorization.active_purpose(session, code=purpose)
    negotiated = None
    if negotiation_id:
        deal = session.get(Negotiation, negotiation_id)
        if deal is None or deal.product_id != product.id or deal.buyer_org_id != actor.org_id:
            raise NotFound(kind=_("Negotiation"), id=negotiation_id)
        if deal.status != NegotiationState.accepted:
            raise NotNow(what=_("Negotiation"), id=deal.id, why=_("it is not accepted"))
        if deal.purpose != purpose or deal.quantity != quantity:
            raise InvalidInput(
                problem=_(
                    "the negotiation was for {quantity} units for {purpose}",
                    quantity=deal.quantity,
                    purpose=deal.purpose,
                )
            )
        negotiated = deal.amount_fen
    return pricing.price(
        product_id=product.id,
        pricing_class=product.pricing_class,
        rule=pricing.parse_rule(product.price),
        purpose=purpose,
        purpose_pricing=code.pricing,
        quantity=quantity,
        platform_fee_bp=product.platform_fee_bp,
        operator_fee_bp=product.operator_fee_bp,
        trial=pricing.in_trial(product.first_listed_at, utcnow()),
        negotiated_fen=negotiated,
        negotiation_id=negotiation_id,
    )


def tariffs(session: Session) -> list[Product]:
    """The publicly posted fees (公开收费标准): every listed public-data product with its
    price, its cap and whether it is still a trial tariff."""
    return list(
        session.scalars(
            select(Product)
            .where(Product.status == ListingState.listed, Product.pricing_class == "capped")
            .order_by(Product.title, Product.id)
        )
    )


def split_preview(
    session: Session, actor: Actor, *, product_id: str, seller_fen: int, settings: Settings
) -> tuple[list[sharing.Planned], dict[str, Any]]:
    """How an order whose seller side is ``seller_fen`` would be split today: the product's
    rule, the weights as they stand (declared; the latest valuation; for volume, equal parts
    until deliveries are measured), the royalties its lineage owes. Nothing is written."""
    product = get_product(session, actor, product_id=product_id)
    if isinstance(seller_fen, bool) or not 0 <= seller_fen <= ledger.MAX_FEN:
        raise InvalidInput(problem=_("an example amount is whole fen, from 0"))
    example = Order(
        id="preview",
        product_id=product.id,
        seller_org_id=product.seller_org_id,
        seller_fen=seller_fen,
        terms=product_terms(session, product=product),
        contract_id=None,
    )
    planned = sharing.plan(session, order=example, settings=settings)
    _weights, basis = sharing.weights(session, order=example)
    return planned, basis
