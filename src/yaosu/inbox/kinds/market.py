"""Inbox items from the market: an order to pay, a delivery to accept or dispute, a dispute
to decide, an objection to a revenue share to decide."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from yaosu.inbox.registry import Item, Kind, Words, offers, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import N_, Message
from yaosu.market import service as market

STEPS = {
    "pay": N_(
        "The contract of your order from {seller} is in force: transfer {amount} quoting the payment reference {reference}."
    ),
    "accept": N_(
        "Your order from {seller} is being delivered: accept it, or dispute it, by {due}; it is accepted then unless disputed."
    ),
    "decide": N_(
        "{buyer} disputes the delivery of its order from {seller} ({amount}, frozen in escrow): decide the dispute."
    ),
}
OBJECTION = N_(
    "{party} objects to its revenue share ({amount}, frozen) in a sale by {seller}: decide the objection."
)


def _offered(actor: Actor) -> bool:
    """Orders wait for buyers (data users and operators) and for those who decide disputes
    (the platform, regulators): nobody else pays the query."""
    return offers(actor, "requests.read") or offers(actor, "home.oversight")


def _count(session: Session, actor: Actor, *, now: datetime) -> int:
    return len(market.steps_waiting(session, actor)) if _offered(actor) else 0


def _items(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not _offered(actor):
        return []
    out = []
    for step, order in market.steps_waiting(session, actor):
        expectation = market.expectation_of(session, order=order) if step == "pay" else None
        due = order.amount_fen - expectation.received if expectation else order.amount_fen
        out.append(
            Item(
                f"order_{step}",
                Message(
                    STEPS[step],
                    {
                        "buyer": words.org(order.buyer_org_id),
                        "seller": words.org(order.seller_org_id),
                        "amount": market.yuan(due),
                        "reference": expectation.reference if expectation else "",
                        "due": order.accept_by.strftime("%Y-%m-%d") if order.accept_by else "",
                    },
                ),
                f"/market/orders/{order.id}",
                at=order.updated_at,
                due=order.accept_by if step == "accept" else None,
                ref=order.id,
            )
        )
    return out


register(Kind("order_step", "waiting", _items, _count))


def _decides(actor: Actor) -> bool:
    """Objections wait for those who may decide them (the platform, regulators): nobody else
    pays the query."""
    return offers(actor, "home.oversight")


def _objection_count(session: Session, actor: Actor, *, now: datetime) -> int:
    return len(market.objections_waiting(session, actor)) if _decides(actor) else 0


def _objection_items(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not _decides(actor):
        return []
    out = []
    for found, line in market.objections_waiting(session, actor):
        month = (line.created_at + timedelta(hours=8)).strftime("year=%Y&month=%m")
        out.append(
            Item(
                "share_objection",
                Message(
                    OBJECTION,
                    {
                        "party": words.org(line.org_id),
                        "seller": words.org(line.seller_org_id),
                        "amount": market.yuan(line.amount_fen),
                    },
                ),
                f"/market/shares?org={line.org_id}&{month}",
                at=found.created_at,
                urgent=found.regulator_asked,
                ref=found.id,
            )
        )
    return out


register(Kind("share_objection", "waiting", _objection_items, _objection_count))
