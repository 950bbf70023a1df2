"""Rules for the market's orders: who places, follows, accepts, disputes and settles them.

An order's ``owner_org_id`` is its buyer; ``attrs``: ``seller`` (the seller's organisation),
``status`` and ``regulator_asked`` (a party asked a regulator to look at the dispute). The
buyer's members (not its reviewers) place, cancel, accept and dispute its orders; either party
may take a dispute to a regulator; the platform decides a dispute, and so may a regulator a
party asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement

from yaosu.authorization.policy import products
from yaosu.authorization.policy.decision import (
    Decision,
    Resource,
    Rows,
    allow,
    deny,
    is_member,
    no_sql_form,
    oversees,
)
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _

BUYER_STEPS = ("order.cancel", "order.accept", "order.dispute")


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    a = resource.attrs
    buyer = is_member(actor, resource)
    seller = actor.org_id is not None and actor.org_id == a.get("seller")
    if action == "order.view":
        if buyer or seller or oversees(actor):
            return allow(_("a party to the order, or oversight"))
        return deny(_("an order is visible to its buyer, its seller and oversight"))
    if action == "order.create":
        if actor.org_id is None:
            return deny(_("orders are placed by organisations"))
        if seller:
            return deny(_("a seller does not buy its own product"))
        if not actor.has_kind("consumer"):
            return deny(_("orders are placed by data users"))
        if actor.role == "reviewer":
            return deny(_("reviewers do not place orders"))
        return allow(_("a data user orders a listed product"))
    if action in BUYER_STEPS:
        if buyer and actor.role != "reviewer":
            return allow(_("the buyer's members follow their own order"))
        return deny(_("only the buyer's members (not its reviewers) cancel, accept or dispute"))
    if action == "order.escalate":
        if (buyer or seller) and actor.role != "reviewer":
            return allow(_("either party may ask a regulator to look at the dispute"))
        return deny(_("only the buyer and the seller take a dispute to a regulator"))
    if action == "order.resolve":
        if actor.is_platform_admin:
            return allow(_("the platform decides disputes"))
        if (
            a.get("regulator_asked")
            and actor.has_kind("regulator")
            and actor.role in ("reviewer", "admin")
        ):
            return allow(_("a regulator decides a dispute a party brought to it"))
        return deny(_("the platform decides disputes, or a regulator a party asked"))
    return deny(_("orders do not support {action}", action=action))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``order.view`` as SQL. ``rows.attrs``: ``seller``."""
    if action != "order.view":
        raise no_sql_form(action)
    return products.buyer_seller_or_oversight_sql(actor, rows)
