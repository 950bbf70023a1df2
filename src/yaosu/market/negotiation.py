"""议价: a market-price product priced ``negotiated`` is bought at an amount its buyer and
seller agree: the buyer's quote, the seller's counter, and so on, until one side accepts
(the amount a quote and, later, an order for it pays) or declines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.states import transition
from yaosu.market import pricing
from yaosu.market.models import Negotiation, Product
from yaosu.market.products import get_product
from yaosu.market.states import NEGOTIATION_MOVES, ListingState, NegotiationState

ANSWERS = ("counter", "accept", "decline")


def _turn(deal: Negotiation) -> str | None:
    return {NegotiationState.offered: "seller", NegotiationState.countered: "buyer"}.get(
        NegotiationState(deal.status)
    )


def negotiation_resource(session: Session, *, deal: Negotiation) -> Resource:
    product = session.get(Product, deal.product_id)
    assert product is not None
    return Resource(
        "negotiation",
        deal.id,
        deal.buyer_org_id,
        {"seller": product.seller_org_id, "turn": _turn(deal)},
    )


ROWS = Rows(
    "negotiation",
    Negotiation.buyer_org_id,
    {
        "seller": select(Product.seller_org_id)
        .where(Product.id == Negotiation.product_id)
        .scalar_subquery()
    },
)


def _amount(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= pricing.MAX_FEN:
        raise InvalidInput(
            problem=_(
                "the amount must be a whole number of fen from 1 to {max}", max=pricing.MAX_FEN
            )
        )
    return value


def open_negotiation(
    session: Session, actor: Actor, *, product_id: str, purpose: str, quantity: int, amount_fen: int
) -> Negotiation:
    """The buyer's first quote for ``quantity`` units for ``purpose``."""
    product = get_product(session, actor, product_id=product_id)
    enforce(
        actor,
        "negotiation.open",
        Resource("negotiation", "*", actor.org_id, {"seller": product.seller_org_id}),
    )
    if product.status != ListingState.listed:
        raise NotNow(
            what=_("Data product"), id=product.id, why=_("only a listed product is negotiated")
        )
    if product.price.get("model") != "negotiated":
        raise InvalidInput(problem=_("this product has a posted price: quote it instead"))
    if purpose not in product.purposes:
        raise InvalidInput(
            problem=_(
                "this product is offered for {purposes}, not {purpose}",
                purposes=product.purposes,
                purpose=purpose,
            )
        )
    if authorization.active_purpose(session, code=purpose).pricing == "free":
        raise InvalidInput(problem=_("a free purpose pays nothing: there is nothing to negotiate"))
    quantity, amount = pricing.check_quantity(quantity), _amount(amount_fen)
    assert actor.org_id is not None
    now = utcnow()
    deal = Negotiation(
        id=new_id("neg"),
        product_id=product.id,
        buyer_org_id=actor.org_id,
        purpose=purpose,
        quantity=quantity,
        amount_fen=amount,
        offers=[{"by": "buyer", "amount_fen": amount, "at": now.isoformat(), "user": actor.id}],
        status=NegotiationState.offered,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    session.flush()
    record(
        session,
        actor,
        action="negotiation.open",
        object_type="negotiation",
        object_id=deal.id,
        object_org_id=product.seller_org_id,
        request={
            "product_id": product.id,
            "purpose": purpose,
            "quantity": quantity,
            "amount_fen": amount,
        },
    )
    return deal


def get_negotiation(session: Session, actor: Actor, *, negotiation_id: str) -> Negotiation:
    deal = session.get(Negotiation, negotiation_id)
    if deal is None:
        raise NotFound(kind=_("Negotiation"), id=negotiation_id)
    enforce(actor, "negotiation.view", negotiation_resource(session, deal=deal))
    return deal


def respond(
    session: Session,
    actor: Actor,
    *,
    negotiation_id: str,
    answer: str,
    amount_fen: int | None = None,
) -> Negotiation:
    """The party whose turn it is counters (with an amount), accepts or declines."""
    get_negotiation(session, actor, negotiation_id=negotiation_id)
    deal = session.scalar(locked(select(Negotiation).where(Negotiation.id == negotiation_id)))
    assert deal is not None
    resource = negotiation_resource(session, deal=deal)
    enforce(actor, "negotiation.respond", resource)
    if answer not in ANSWERS:
        raise InvalidInput(problem=_("answer must be one of {answers}", answers=list(ANSWERS)))
    side = _turn(deal)
    target = {
        "accept": NegotiationState.accepted,
        "decline": NegotiationState.declined,
        "counter": NegotiationState.countered if side == "seller" else NegotiationState.offered,
    }[answer]
    deal_state = transition(
        NEGOTIATION_MOVES, deal.status, target, what=_("Negotiation"), id=deal.id
    )
    now = utcnow()
    if answer == "counter":
        deal.amount_fen = _amount(amount_fen)
        deal.offers = [
            *deal.offers,
            {"by": side, "amount_fen": deal.amount_fen, "at": now.isoformat(), "user": actor.id},
        ]
    deal.status, deal.updated_at = deal_state, now
    session.flush()
    record(
        session,
        actor,
        action=f"negotiation.{answer}",
        object_type="negotiation",
        object_id=deal.id,
        object_org_id=resource.attrs["seller"],
        request={"answer": answer, "amount_fen": amount_fen},
        detail={"status": deal.status, "amount_fen": deal.amount_fen},
    )
    return deal


def list_negotiations(
    session: Session, actor: Actor, *, product_id: str | None = None
) -> list[Negotiation]:
    stmt = (
        select(Negotiation)
        .where(visible(actor, "negotiation.view", ROWS))
        .order_by(Negotiation.updated_at.desc(), Negotiation.id)
        .limit(200)
    )
    if product_id:
        stmt = stmt.where(Negotiation.product_id == product_id)
    return list(session.scalars(stmt))
