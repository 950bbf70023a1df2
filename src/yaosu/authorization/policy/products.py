"""Rules for the market's data products, their listing, price negotiations and operators'
revenue periods.

A product's ``owner_org_id`` is its seller; ``attrs``: ``status`` (its listing state),
``reviewers`` (the organisations its listing review is routed to) and ``public_data``. The
platform runs the compliance assessment (合规评估) and publishes listings; an assessor
organisation attaches quality or valuation reports while a product is assessed; the 数据局,
the authorising body of public data, sets a public-data product's cap (上限收费标准) and an
operator's allowed revenue (最高准许收入)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from yaosu.authorization.policy.decision import (
    Decision,
    Resource,
    Rows,
    allow,
    deny,
    is_member,
    is_member_sql,
    no_sql_form,
    oversees,
)
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _

# Listing states in which a product is public: in its notice (公示) and on the market.
PUBLIC = ("in_notice", "listed", "suspended", "delisted")
AUTHORISING_BODY = "数据局"


def _authorising_body(actor: Actor) -> bool:
    return actor.has_kind("regulator") and actor.department == AUTHORISING_BODY


def _seller_hand(actor: Actor, resource: Resource) -> bool:
    return is_member(actor, resource) and actor.role != "reviewer"


def product(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    a = resource.attrs
    reviewers = a.get("reviewers", ())
    if action == "product.view":
        if a.get("status") in PUBLIC:
            return allow(_("a product in public notice or on the market"))
        if is_member(actor, resource) or actor.org_id in reviewers or oversees(actor):
            return allow(_("the seller, a reviewer of its listing, or oversight"))
        if actor.has_kind("assessor") and a.get("status") == "assessing":
            return allow(_("an assessor, while the product is assessed"))
        return deny(_("a product not yet in public notice is visible to its seller"))
    if action == "product.create":
        if not (actor.has_kind("provider") or actor.has_kind("operator")):
            return deny(_("data products are made by providers and authorised operators"))
        if actor.role == "reviewer":
            return deny(_("reviewers do not make products"))
        return allow(_("a provider or operator makes its own products"))
    if action in ("product.edit", "product.submit"):
        if _seller_hand(actor, resource):
            return allow(_("the seller edits and submits its own product"))
        return deny(_("only the seller's members (not its reviewers) edit or submit it"))
    if action == "product.value":
        if _seller_hand(actor, resource) or actor.is_platform_admin:
            return allow(_("the seller, or the platform, values the product's contributors"))
        return deny(_("only the seller's members or the platform value the contributors"))
    if action == "product.delist":
        if (is_member(actor, resource) and actor.role == "admin") or actor.is_platform_admin:
            return allow(_("the seller's admin or the platform takes a product off the market"))
        return deny(_("only the seller's admin or the platform delists a product"))
    if action in ("product.assess", "product.publish"):
        if actor.is_platform_admin:
            return allow(_("the platform runs the compliance assessment and the listing"))
        return deny(_("only the platform assesses and publishes listings"))
    if action == "product.suspend":
        if actor.is_platform_admin or (
            actor.has_kind("regulator") and actor.role in ("reviewer", "admin")
        ):
            return allow(_("the platform or a regulator suspends a listing"))
        return deny(_("only the platform or a regulator suspends a listing"))
    if action == "product.report":
        if not actor.has_kind("assessor") or actor.role == "reviewer":
            return deny(_("quality and valuation reports come from assessor organisations"))
        return allow(_("an assessor organisation reports on the product"))
    if action == "product.review":
        if actor.org_id not in reviewers:
            return deny(_("your organisation does not review this listing"))
        if actor.role not in ("reviewer", "admin"):
            return deny(_("needs the reviewer or admin role"))
        return allow(_("your organisation reviews this listing"))
    if action == "product.cap":
        if not a.get("public_data"):
            return deny(_("only public-data products have a cap set by the authorising body"))
        if _authorising_body(actor) or actor.is_platform_admin:
            return allow(_("the authorising body sets the cap"))
        return deny(_("only the 数据局, the authorising body, sets the cap"))
    return deny(_("products do not support {action}", action=action))


def product_where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``product.view`` as SQL. ``rows.attrs``: ``status``, ``reviewers`` (a set)."""
    if action != "product.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    status = rows.attrs["status"]
    assessing = (status == "assessing") if actor.has_kind("assessor") else false()
    return or_(
        status.in_(PUBLIC),
        is_member_sql(actor, rows),
        rows.holds("reviewers", actor.org_id),
        assessing,
    )


def negotiation(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the buyer; ``attrs``: ``seller``, ``turn`` (``buyer`` or ``seller``:
    whose answer the negotiation waits for)."""
    a = resource.attrs
    buyer = actor.org_id is not None and actor.org_id == resource.owner_org_id
    seller = actor.org_id is not None and actor.org_id == a.get("seller")
    if action == "negotiation.view":
        if buyer or seller or oversees(actor):
            return allow(_("a party to the negotiation, or oversight"))
        return deny(_("a negotiation is visible to its parties"))
    if action == "negotiation.open":
        if actor.org_id is None:
            return deny(_("offers are made by organisations"))
        if seller:
            return deny(_("a seller does not bid for its own product"))
        if actor.role == "reviewer":
            return deny(_("reviewers do not negotiate"))
        return allow(_("any organisation may make an offer"))
    if action == "negotiation.respond":
        if actor.role == "reviewer" or not (buyer or seller):
            return deny(_("only the buyer and the seller answer a negotiation"))
        turn = a.get("turn")
        if (turn == "seller" and not seller) or (turn == "buyer" and not buyer):
            return deny(_("the negotiation waits for the other party"))
        return allow(_("a party answers the negotiation"))
    return deny(_("negotiations do not support {action}", action=action))


def negotiation_where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``negotiation.view`` as SQL. ``rows.attrs``: ``seller``."""
    if action != "negotiation.view":
        raise no_sql_form(action)
    return buyer_seller_or_oversight_sql(actor, rows)


def buyer_seller_or_oversight_sql(actor: Actor, rows: Rows) -> ColumnElement[bool]:
    """Rows whose buyer (``owner_org_id``) or ``seller`` is the actor's organisation, or all
    for oversight: a negotiation's and an order's visibility."""
    if oversees(actor):
        return true()
    if actor.org_id is None:
        return false()
    return or_(rows.owner_org_id == actor.org_id, rows.attrs["seller"] == actor.org_id)


def period(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the operator whose allowed revenue the period counts."""
    if action == "period.view":
        if is_member(actor, resource) or oversees(actor):
            return allow(_("the operator, or oversight"))
        return deny(_("an operator's revenue periods are its own and oversight's"))
    if action == "period.manage":
        if _authorising_body(actor) or actor.is_platform_admin:
            return allow(_("the authorising body sets the allowed revenue"))
        return deny(_("only the 数据局, the authorising body, sets the allowed revenue"))
    return deny(_("revenue periods do not support {action}", action=action))


def period_where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    if action != "period.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return is_member_sql(actor, rows)
