"""Rules for revenue shares: who sees a share, objects to it and decides an objection.

A share's ``owner_org_id`` is the party it is owed to (a contributor, a processor in a role,
an upstream product's party); ``attrs``: ``seller`` (the order's seller), ``status`` and
``regulator_asked`` (the objection was taken to a regulator). The party's members (not its
reviewers) object while the share is held; the party or the seller may take the objection
to a regulator; the platform decides, and so may a regulator a party asked."""

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


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    a = resource.attrs
    party = is_member(actor, resource)
    seller = actor.org_id is not None and actor.org_id == a.get("seller")
    if action == "share.view":
        if party or seller or oversees(actor):
            return allow(_("the party owed the share, the seller, or oversight"))
        return deny(_("a share is visible to its party, the seller and oversight"))
    if action == "share.object":
        if not party or actor.role == "reviewer":
            return deny(_("only the party's members (not its reviewers) object to its share"))
        return allow(_("the party objects to its own share"))
    if action == "share.escalate":
        if (party or seller) and actor.role != "reviewer":
            return allow(_("the party or the seller may ask a regulator to look at it"))
        return deny(_("only the party and the seller take an objection to a regulator"))
    if action == "share.decide":
        if actor.is_platform_admin:
            return allow(_("the platform decides objections to shares"))
        if (
            a.get("regulator_asked")
            and actor.has_kind("regulator")
            and actor.role in ("reviewer", "admin")
        ):
            return allow(_("a regulator decides an objection a party brought to it"))
        return deny(_("the platform decides objections, or a regulator a party asked"))
    return deny(_("shares do not support {action}", action=action))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``share.view`` as SQL. ``rows.attrs``: ``seller``."""
    if action != "share.view":
        raise no_sql_form(action)
    return products.buyer_seller_or_oversight_sql(actor, rows)
