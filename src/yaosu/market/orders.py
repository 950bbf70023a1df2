"""Orders: a listed product, a purpose and a quantity, bought, delivered and paid for.

Placing an order prices it (``products.quote``: free purposes pay nothing, capped products
at most their cap, negotiated ones the agreed amount) and files an access request for the
product's terms: the reviews the data needs still happen, and the contract they make bounds
the use (a calls product's contract allows as many uses as were bought). From there the order
follows its request and contract, as the system (``advance``):

- the contract comes into force: a free order is delivered at once; a paid one waits for a
  bank transfer quoting its payment reference (``bank``);
- the payment arrives (the bank statement is matched) into the buyer's escrow: the order's
  amount is *held* there by pending transfers to the seller side (the seller's revenue, its
  operator fee, the platform's service fee), with a timeout of ``hold_days``, and delivery
  begins: the buyer uses the contract;
- the buyer accepts (验收), or ``acceptance_days`` pass without a dispute: the holds are
  posted. Capped public-data revenue counts against the operator's allowed revenue;
- the buyer disputes: the holds stay frozen; either party may ask a regulator; the platform
  (or that regulator) releases the money to the seller or refunds it: the holds are voided
  and the amount moves from the escrow to what the platform owes the buyer (``payable``).
  A hold that times out with the dispute still open refunds the buyer the same way;
- the request is refused or withdrawn, or the terms declined, or the buyer cancels before
  delivery: the order is cancelled and whatever was paid is refunded.

Delivery is metered from the contract's use records (``access.service.deliveries``), never
from the client's word. Every ledger write carries a key derived from the order, so a step
retried (or run twice by two workers) posts once.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yaosu.access import service as access
from yaosu.audit.service import record
from yaosu.authorization import service as authorization
from yaosu.authorization.policy import Resource, Rows, decide, enforce, visible
from yaosu.authorization.schemas import RequestCreate
from yaosu.catalog import versions
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.states import transition
from yaosu.market import bank, ledger, periods, products, sharing
from yaosu.market.models import BankImport, LedgerTransfer, Order, PaymentExpectation
from yaosu.market.states import ORDER_MOVES, ListingState, OrderState

OPEN = (OrderState.contracting, OrderState.awaiting_payment)
HELD = (OrderState.delivering, OrderState.disputed)
ENDED = (OrderState.accepted, OrderState.refunded, OrderState.cancelled)
OUTCOMES = ("release", "refund")
MIB = 1024**2
# The market's own steps (following a request, a payment, a deadline) are audited as this.
MARKET = Actor(id="system:market", username="market", org_id=None, via="cli")


def order_resource(order: Order) -> Resource:
    return Resource(
        "order",
        order.id,
        order.buyer_org_id,
        {
            "seller": order.seller_org_id,
            "status": order.status,
            "regulator_asked": order.regulator_asked,
        },
    )


ROWS = Rows("order", Order.buyer_org_id, {"seller": Order.seller_org_id})


# --- placing ---------------------------------------------------------------------------------


def _fields(session: Session, actor: Actor, terms: dict[str, Any]) -> dict[str, list[str]]:
    """The fields the request asks for: those the product's manifest names, or (a manifest
    without a schema) every column of the registered version."""
    out: dict[str, list[str]] = {}
    for dataset_id, fields in terms["datasets"].items():
        if not fields:
            version = versions.get_version(session, actor, dataset_id=dataset_id, number=None)
            fields = [c["name"] for c in version.columns]
        out[dataset_id] = list(fields)
    return out


def place(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    product_id: str,
    purpose: str,
    quantity: int,
    justification: str,
    days: int | None = None,
    negotiation_id: str | None = None,
) -> Order:
    """Prices the order and files the access request its contract comes from."""
    product = products.get_product(session, actor, product_id=product_id)
    enforce(
        actor,
        "order.create",
        Resource("order", "*", actor.org_id, {"seller": product.seller_org_id}),
    )
    if product.status != ListingState.listed:
        raise NotNow(what=_("Data product"), id=product.id, why=_("only a listed product is sold"))
    if len(justification.strip()) < 10:
        raise InvalidInput(problem=_("say what the data is for, in at least 10 characters"))
    quote = products.quote(
        session,
        actor,
        product_id=product.id,
        purpose=purpose,
        quantity=quantity,
        negotiation_id=negotiation_id,
    )
    if negotiation_id and negotiations_ordered(session, ids=[negotiation_id]):
        raise NotNow(
            what=_("Negotiation"), id=negotiation_id, why=_("an order was already placed for it")
        )
    if (
        quote.pricing_class == "capped"
        and quote.amount_fen
        and not periods.current_period(session, operator_org_id=product.seller_org_id)
    ):
        raise NotNow(
            what=_("Data product"),
            id=product.id,
            why=_("its operator has no open revenue period: the authorising body opens one"),
        )
    terms = products.product_terms(session, product=product)
    unit = quote.unit
    term_days = days or (math.ceil(quote.quantity / 24) if unit == "hours" else 365)
    order_id = new_id("ord")
    request = authorization.submit_request(
        session,
        actor,
        settings=settings,
        order_id=order_id,
        data=RequestCreate(
            purpose=purpose,
            datasets=_fields(session, actor, terms),
            operations=[terms["operation"]],
            days=min(max(term_days, 1), settings.max_contract_days),
            max_uses=quote.quantity if unit == "calls" else None,
            justification=justification.strip(),
        ),
    )
    assert actor.org_id is not None
    now = utcnow()
    order = Order(
        id=order_id,
        product_id=product.id,
        buyer_org_id=actor.org_id,
        seller_org_id=product.seller_org_id,
        purpose=purpose,
        quantity=quote.quantity,
        unit=unit,
        pricing_class=quote.pricing_class,
        amount_fen=quote.amount_fen,
        platform_fee_fen=quote.platform_fee_fen,
        operator_fee_fen=quote.operator_fee_fen,
        seller_fen=quote.seller_fen,
        quote={
            "trial": quote.trial,
            "lines": [
                {"tier": ln.tier, "units": ln.units, "unit_fen": ln.unit_fen, "fen": ln.fen}
                for ln in quote.lines
            ],
            "platform_fee_bp": quote.platform_fee_bp,
            "operator_fee_bp": quote.operator_fee_bp,
        },
        terms=terms,
        negotiation_id=negotiation_id,
        status=OrderState.contracting,
        request_id=request.id,
        holds=[],
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    record(
        session,
        actor,
        action="order.create",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        request={
            "product_id": product.id,
            "purpose": purpose,
            "quantity": quote.quantity,
            "negotiation_id": negotiation_id,
        },
        detail={
            "request_id": request.id,
            "amount_fen": order.amount_fen,
            "pricing_class": order.pricing_class,
        },
    )
    return order


# --- reading ---------------------------------------------------------------------------------


def get_order(session: Session, actor: Actor, *, order_id: str, settings: Settings) -> Order:
    """An order, brought up to date with its request, contract and payment first."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(kind=_("Order"), id=order_id)
    enforce(actor, "order.view", order_resource(order))
    if order.status not in ENDED:
        order = advance(session, order_id=order.id, settings=settings)
    return order


def list_orders(
    session: Session,
    actor: Actor,
    *,
    side: str | None = None,
    status: str | None = None,
    product_id: str | None = None,
) -> list[Order]:
    """The orders the actor may see, newest first; ``side`` ``buying`` or ``selling`` keeps
    the actor's organisation's own."""
    stmt = (
        select(Order)
        .where(visible(actor, "order.view", ROWS))
        .order_by(Order.created_at.desc(), Order.id)
        .limit(200)
    )
    if side == "buying":
        stmt = stmt.where(Order.buyer_org_id == actor.org_id)
    elif side == "selling":
        stmt = stmt.where(Order.seller_org_id == actor.org_id)
    elif side is not None:
        raise InvalidInput(problem=_("side is buying or selling"))
    if status is not None:
        if status not in OrderState.__members__:
            raise InvalidInput(
                problem=_("unknown order status {status}", status=status),
            )
        stmt = stmt.where(Order.status == status)
    if product_id:
        stmt = stmt.where(Order.product_id == product_id)
    return list(session.scalars(stmt))


def expectation_of(session: Session, *, order: Order) -> PaymentExpectation | None:
    """The bank transfer the order waits for (or received)."""
    if order.expectation_id is None:
        return None
    return session.get(PaymentExpectation, order.expectation_id)


def delivered(session: Session, *, order: Order, now: datetime | None = None) -> dict[str, Any]:
    """What the order's contract delivered so far, in its charge unit, from the use records:
    calls are the contract's uses, megabytes its extracts' size, hours the time since
    delivery began (up to the contract's end), a product once the contract is in force."""
    if order.contract_id is None or order.delivery_started_at is None:
        return {"unit": order.unit, "ordered": order.quantity, "used": 0}
    contract = authorization.get_contract(session, MARKET, contract_id=order.contract_id)
    uses = access.deliveries(session, contract_id=order.contract_id)
    now = now or utcnow()
    if order.unit == "calls":
        used = contract.uses
    elif order.unit == "megabytes":
        used = math.ceil(uses["extract_bytes"] / MIB)
    elif order.unit == "hours":
        end = min(now, contract.ends_at)
        used = max(0, math.ceil((end - order.delivery_started_at).total_seconds() / 3600))
    else:
        used = 1
    return {
        "unit": order.unit,
        "ordered": order.quantity,
        "used": min(used, order.quantity),
        "contract_uses": contract.uses,
        **uses,
    }


# --- following the request, the contract, the payment, the deadlines ------------------------


def _locked(session: Session, order_id: str) -> Order:
    stmt = locked(select(Order).where(Order.id == order_id))
    order = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if order is None:
        raise NotFound(kind=_("Order"), id=order_id)
    return order


def _move(session: Session, actor: Actor, order: Order, target: OrderState, **detail: Any) -> None:
    before = order.status
    order.status = transition(ORDER_MOVES, order.status, target, what=_("Order"), id=order.id)
    order.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        action="order.advance",
        object_type="order",
        object_id=order.id,
        object_org_id=order.buyer_org_id,
        detail={"from": before, "to": str(target), **detail},
    )


def _key(order: Order, step: str) -> str:
    return f"order:{order.id}:{step}"


def _hold(session: Session, order: Order, *, settings: Settings, at: datetime) -> list[str]:
    """Reserves the order's amount in the buyer's escrow for the seller side: pending
    transfers, posted on acceptance, voided on a refund or when ``hold_days`` pass."""
    escrow = ledger.open_account(session, org_id=order.buyer_org_id, code="escrow")
    legs: list[tuple[str, str, int]] = [
        (account, "order", amount)
        for account, amount in ledger.revenue_accounts_for(
            session, seller_org_id=order.seller_org_id, amount=order.seller_fen, ref=order.id
        )
    ]
    legs.append(
        (
            ledger.open_account(session, org_id=order.seller_org_id, code="operator_fee"),
            "operator_fee",
            order.operator_fee_fen,
        )
    )
    legs.append(
        (
            ledger.open_account(
                session, org_id=ledger.platform_org_id(session), code="service_fee"
            ),
            "service_fee",
            order.platform_fee_fen,
        )
    )
    specs = [
        ledger.Spec(
            key=_key(order, f"hold:{i}"),
            code=code,
            amount=amount,
            debit=escrow,
            credit=account,
            kind="pending",
            ref=order.id,
            timeout_seconds=settings.hold_days * 86_400,
        )
        for i, (account, code, amount) in enumerate(legs)
        if amount > 0
    ]
    return [t.id for t in ledger.post_batch(session, MARKET, transfers=specs, at=at)]


def _release(
    session: Session, actor: Actor, order: Order, *, settings: Settings, at: datetime | None = None
) -> None:
    """Posts the holds: the seller side is paid, and its amount split among everyone who
    contributed (``sharing``: each party's share held until its objection window closes)."""
    specs = [
        ledger.Spec(
            key=_key(order, f"release:{i}"),
            code=session.get(LedgerTransfer, hold).code,  # type: ignore[union-attr]
            kind="post",
            pending_id=hold,
        )
        for i, hold in enumerate(order.holds)
    ]
    ledger.post_batch(session, actor, transfers=specs, at=at)
    if order.seller_fen > 0:
        sharing.post(session, actor, order=order, settings=settings, at=at)
    if order.pricing_class == "capped" and order.amount_fen:
        periods.add_revenue(
            session,
            actor,
            operator_org_id=order.seller_org_id,
            amount_fen=order.seller_fen + order.operator_fee_fen,
            reference=order.id,
        )


def _refund(session: Session, actor: Actor, order: Order, *, amount: int) -> None:
    """Voids what is still held and owes the buyer ``amount`` from its escrow."""
    resolved = set(
        session.scalars(
            select(LedgerTransfer.pending_id).where(LedgerTransfer.pending_id.in_(order.holds))
        )
    )
    specs = [
        ledger.Spec(
            key=_key(order, f"void:{i}"),
            code=session.get(LedgerTransfer, hold).code,  # type: ignore[union-attr]
            kind="void",
            pending_id=hold,
        )
        for i, hold in enumerate(order.holds)
        if hold not in resolved
    ]
    if amount > 0:
        specs.append(
            ledger.Spec(
                key=_key(order, "refund"),
                code="refund",
                amount=amount,
                debit=ledger.open_account(session, org_id=order.buyer_org_id, code="escrow"),
                credit=ledger.open_account(session, org_id=order.buyer_org_id, code="payable"),
                ref=order.id,
            )
        )
    ledger.post_batch(session, actor, transfers=specs)


def _begin_delivery(session: Session, order: Order, *, settings: Settings, now: datetime) -> None:
    if order.amount_fen:
        order.holds = _hold(session, order, settings=settings, at=now)
    order.delivery_started_at = now
    order.accept_by = now + timedelta(days=settings.acceptance_days)
    _move(session, MARKET, order, OrderState.delivering, accept_by=order.accept_by.isoformat())


def _cancel_expectation(session: Session, order: Order) -> int:
    """Stops waiting for the order's payment; returns what was already received."""
    if order.expectation_id is None:
        return 0
    expectation = session.scalar(
        locked(select(PaymentExpectation).where(PaymentExpectation.id == order.expectation_id))
    )
    assert expectation is not None
    if expectation.status in ("open", "partial"):
        expectation.status = "cancelled"
    return expectation.received


def _holds_lapsed(session: Session, order: Order) -> bool:
    """Whether a hold was voided without the order deciding it (its timeout passed)."""
    if not order.holds:
        return False
    found = session.scalar(
        select(LedgerTransfer.id)
        .where(
            LedgerTransfer.pending_id.in_(order.holds),
            LedgerTransfer.kind == "void",
            LedgerTransfer.idempotency_key.like("expire:%"),
        )
        .limit(1)
    )
    return found is not None


def advance(
    session: Session, *, order_id: str, settings: Settings, now: datetime | None = None
) -> Order:
    """Takes every step the order's request, contract, payment and deadlines allow, as the
    market itself, in the caller's transaction (the order's row locked: two workers advance
    it once)."""
    order = _locked(session, order_id)
    now = now or utcnow()
    if order.status == OrderState.contracting:
        request = authorization.get_request(session, MARKET, request_id=order.request_id)
        if request.status in ("rejected", "withdrawn", "expired"):
            order.ended_because = f"request_{request.status}"
            _move(session, MARKET, order, OrderState.cancelled, request=request.status)
            return order
        if request.contract_id is None:
            return order
        order.contract_id = request.contract_id
        contract = authorization.get_contract(session, MARKET, contract_id=request.contract_id)
        state = authorization.status_of(contract, now)
        if state in ("declined", "revoked", "expired"):
            order.ended_because = f"contract_{state}"
            _move(session, MARKET, order, OrderState.cancelled, contract=str(state))
            return order
        if state != "active":
            return order
        if order.amount_fen == 0:
            _begin_delivery(session, order, settings=settings, now=now)
            return order
        expectation = bank.expect_payment(
            session, MARKET, org_id=order.buyer_org_id, amount=order.amount_fen, ref=order.id
        )
        order.expectation_id = expectation.id
        _move(session, MARKET, order, OrderState.awaiting_payment, reference=expectation.reference)
    if order.status == OrderState.awaiting_payment:
        paid = session.get(PaymentExpectation, order.expectation_id)
        if paid is not None and paid.status == "paid":
            _begin_delivery(session, order, settings=settings, now=now)
        return order
    if order.status in HELD and _holds_lapsed(session, order):
        order.ended_because = "hold_lapsed"
        _refund(session, MARKET, order, amount=order.amount_fen)
        _move(session, MARKET, order, OrderState.refunded, reason="hold timed out")
        return order
    if order.status == OrderState.delivering and order.accept_by and now >= order.accept_by:
        _accept(session, MARKET, order, settings=settings, now=now, automatic=True)
    return order


def advance_all(session: Session, *, settings: Settings, now: datetime | None = None) -> int:
    """Advances every order not yet ended (``yaosu market expire``, a bank import), and pays
    the revenue shares whose objection window has closed; returns how many orders changed
    state."""
    now = now or utcnow()
    ids = list(
        session.scalars(
            select(Order.id)
            .where(Order.status.in_([*OPEN, *HELD]))
            .order_by(Order.created_at, Order.id)
            .limit(10_000)
        )
    )
    changed = 0
    for order_id in ids:
        before = session.get(Order, order_id)
        was = before.status if before else None
        if advance(session, order_id=order_id, settings=settings, now=now).status != was:
            changed += 1
    sharing.pay_due(session, MARKET, now=now)
    return changed


def import_statement(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    data: bytes,
    filename: str,
    at: datetime | None = None,
) -> BankImport:
    """Imports a bank statement (``bank.import_statement``), then advances the orders its
    lines paid: a paid order's money is held and its delivery begins."""
    imported = bank.import_statement(session, actor, data=data, filename=filename, at=at)
    paid = {line.expectation_id for line in bank.lines_of(session, import_id=imported.id)}
    for order_id in session.scalars(
        select(Order.id).where(Order.expectation_id.in_(paid - {None})).order_by(Order.id)
    ):
        advance(session, order_id=order_id, settings=settings, now=at)
    return imported


# --- the parties' steps ----------------------------------------------------------------------


def _step(session: Session, actor: Actor, order_id: str, action: str, settings: Settings) -> Order:
    """The order, up to date and locked, once ``actor`` may take ``action`` on it."""
    get_order(session, actor, order_id=order_id, settings=settings)
    order = _locked(session, order_id)
    enforce(actor, action, order_resource(order))
    return order


def _accept(
    session: Session,
    actor: Actor,
    order: Order,
    *,
    settings: Settings,
    now: datetime,
    automatic: bool = False,
) -> None:
    order.delivery = delivered(session, order=order, now=now)
    _release(session, actor, order, settings=settings, at=now)
    order.ended_because = "accepted_automatically" if automatic else "accepted_by_buyer"
    _move(session, actor, order, OrderState.accepted, delivery=order.delivery)


def accept(
    session: Session,
    actor: Actor,
    *,
    order_id: str,
    settings: Settings,
    at: datetime | None = None,
) -> Order:
    """验收: the buyer confirms the delivery; the escrow is released to the seller side.
    ``at`` backdates it (the demo); the routes never pass it."""
    order = _step(session, actor, order_id, "order.accept", settings)
    if order.status != OrderState.delivering:
        raise NotNow(
            what=_("Order"), id=order.id, why=_("only an order being delivered is accepted")
        )
    _accept(session, actor, order, settings=settings, now=at or utcnow())
    record(
        session,
        actor,
        action="order.accept",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        detail={"delivery": order.delivery},
    )
    return order


def dispute(
    session: Session, actor: Actor, *, order_id: str, reason: str, settings: Settings
) -> Order:
    """The buyer disputes the delivery before it is accepted: the escrow stays frozen."""
    order = _step(session, actor, order_id, "order.dispute", settings)
    if len(reason.strip()) < 10:
        raise InvalidInput(
            problem=_("say what is wrong with the delivery, in at least 10 characters")
        )
    if order.status != OrderState.delivering:
        raise NotNow(
            what=_("Order"), id=order.id, why=_("only an order being delivered is disputed")
        )
    order.dispute_reason, order.disputed_at = reason.strip(), utcnow()
    order.delivery = delivered(session, order=order)
    _move(session, actor, order, OrderState.disputed)
    record(
        session,
        actor,
        action="order.dispute",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        request={"reason": order.dispute_reason},
        detail={"delivery": order.delivery},
    )
    return order


def escalate(
    session: Session, actor: Actor, *, order_id: str, note: str, settings: Settings
) -> Order:
    """A party asks a regulator to look at the dispute (and decide it)."""
    order = _step(session, actor, order_id, "order.escalate", settings)
    if order.status != OrderState.disputed:
        raise NotNow(
            what=_("Order"), id=order.id, why=_("only a disputed order goes to a regulator")
        )
    if order.regulator_asked:
        raise NotNow(what=_("Order"), id=order.id, why=_("a regulator was already asked"))
    order.regulator_asked, order.updated_at = True, utcnow()
    session.flush()
    record(
        session,
        actor,
        action="order.escalate",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        request={"note": note.strip()[:2000]},
    )
    return order


def resolve(
    session: Session,
    actor: Actor,
    *,
    order_id: str,
    outcome: str,
    note: str,
    settings: Settings,
) -> Order:
    """Decides a dispute: ``release`` pays the seller side, ``refund`` returns the money."""
    order = _step(session, actor, order_id, "order.resolve", settings)
    if outcome not in OUTCOMES:
        raise InvalidInput(problem=_("the outcome is release or refund"))
    if len(note.strip()) < 10:
        raise InvalidInput(problem=_("give the reason for the decision, in at least 10 characters"))
    if order.status != OrderState.disputed:
        raise NotNow(what=_("Order"), id=order.id, why=_("only a disputed order is decided"))
    order.resolved_by, order.resolution = actor.id, note.strip()
    order.ended_because = "released_on_decision" if outcome == "release" else "refunded_on_decision"
    if outcome == "release":
        order.delivery = delivered(session, order=order)
        _release(session, actor, order, settings=settings)
        _move(session, actor, order, OrderState.accepted, outcome=outcome)
    else:
        _refund(session, actor, order, amount=order.amount_fen)
        _move(session, actor, order, OrderState.refunded, outcome=outcome)
    record(
        session,
        actor,
        action="order.resolve",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        request={"outcome": outcome, "note": order.resolution},
    )
    return order


def cancel(
    session: Session, actor: Actor, *, order_id: str, reason: str, settings: Settings
) -> Order:
    """The buyer cancels before delivery: its request is withdrawn if still under review,
    the payment no longer expected, and what was already paid refunded."""
    order = _step(session, actor, order_id, "order.cancel", settings)
    if order.status not in OPEN:
        raise NotNow(
            what=_("Order"), id=order.id, why=_("an order is cancelled only before delivery")
        )
    if order.status == OrderState.contracting:
        request = authorization.get_request(session, MARKET, request_id=order.request_id)
        if request.status == "submitted":
            authorization.withdraw(session, actor, request_id=order.request_id)
    received = _cancel_expectation(session, order)
    if received:
        _refund(session, actor, order, amount=received)
    order.ended_because, order.resolution = "cancelled_by_buyer", reason.strip()[:2000] or None
    _move(session, actor, order, OrderState.cancelled, refunded=received)
    record(
        session,
        actor,
        action="order.cancel",
        object_type="order",
        object_id=order.id,
        object_org_id=order.seller_org_id,
        request={"reason": reason.strip()[:2000]},
        detail={"refunded_fen": received},
    )
    return order


# --- what waits for whom (the inbox) ---------------------------------------------------------

# An order's state -> the step that waits in it, and the action that takes it.
WAITING = {
    OrderState.awaiting_payment: ("pay", "order.accept"),  # the buyer's members pay it
    OrderState.delivering: ("accept", "order.accept"),
    OrderState.disputed: ("decide", "order.resolve"),
}


def steps_waiting(session: Session, actor: Actor) -> list[tuple[str, Order]]:
    """``(step, order)`` for each order that waits for the actor: a payment to make, a
    delivery to accept or dispute, a dispute to decide; oldest first. One query."""
    if actor.org_id is None:
        return []
    stmt = (
        select(Order)
        .where(visible(actor, "order.view", ROWS), Order.status.in_(list(WAITING)))
        .order_by(Order.updated_at, Order.id)
        .limit(200)
    )
    out = []
    for order in session.scalars(stmt):
        step, action = WAITING[OrderState(order.status)]
        if decide(actor, action, order_resource(order)).allowed:
            out.append((step, order))
    return out


def sales_by_status(session: Session, actor: Actor, *, seller_org_id: str) -> dict[str, Any]:
    """``{status: {"orders", "amount", "seller"}}`` of an organisation's sales that the actor
    may see, every one of them (one grouped query): ``seller`` is what is the seller's of
    the amount (its revenue and its operator fee)."""
    rows = session.execute(
        select(
            Order.status,
            func.count(),
            func.sum(Order.amount_fen),
            func.sum(Order.seller_fen + Order.operator_fee_fen),
        )
        .where(visible(actor, "order.view", ROWS), Order.seller_org_id == seller_org_id)
        .group_by(Order.status)
        .order_by(Order.status)
    )
    return {
        status: {"orders": int(n), "amount": int(amount or 0), "seller": int(seller or 0)}
        for status, n, amount, seller in rows
    }


def negotiations_ordered(session: Session, *, ids: list[str]) -> set[str]:
    """Which of these accepted negotiations an order (not cancelled) was placed for."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Order.negotiation_id).where(
                Order.negotiation_id.in_(ids), Order.status != OrderState.cancelled
            )
        )
    )
