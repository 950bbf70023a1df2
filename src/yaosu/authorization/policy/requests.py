"""Rules for access requests: who sees, withdraws and reviews them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, true

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


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """Access requests: ``owner_org_id`` is the requester; ``reviewers`` the organisations whose
    review the routing rules require."""
    reviewers = resource.attrs.get("reviewers", ())
    if action == "request.view":
        if is_member(actor, resource) or actor.org_id in reviewers or oversees(actor):
            return allow(_("requester, a reviewer, or oversight"))
        return deny(_("only the requester and its reviewers see it"))
    if action == "request.withdraw":
        if is_member(actor, resource) and actor.role != "reviewer":
            return allow(_("the requester withdraws"))
        return deny(_("only the requester withdraws"))
    if action == "request.review":
        if actor.org_id not in reviewers:
            return deny(_("your organisation does not review this request"))
        if actor.role not in ("reviewer", "admin"):
            return deny(_("needs the reviewer or admin role"))
        return allow(_("your organisation reviews this request"))
    return deny(_("requests do not support {action}", action=action))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``request.view`` as SQL. ``rows.attrs``: ``reviewers`` (a set: see ``Rows``)."""
    if action != "request.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.holds("reviewers", actor.org_id))
