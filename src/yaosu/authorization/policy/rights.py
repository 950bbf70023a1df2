"""Rules for data rights: who sees a right and who applies to register one."""

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
    no_sql_form,
    oversees,
)
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the dataset's owner (an original right) or the parent right's holder;
    for ``right.view``, the right's holder."""
    if action == "right.view":
        a = resource.attrs
        if a.get("status") != "pending" or a.get("registration") == "in_notice":
            return allow(_("a registered right, or one in public notice"))
        concerned = (resource.owner_org_id, a.get("grantor"), a.get("applicant"))
        if (actor.org_id is not None and actor.org_id in concerned) or oversees(actor):
            return allow(_("your own pending right, or oversight"))
        return deny(
            _("a right whose registration is not yet public is visible to its parties"),
        )
    if action != "right.apply":
        return deny(_("rights do not support {action}", action=action))
    if not is_member(actor, resource):
        if resource.attrs.get("original"):
            return deny(
                _("only the dataset's owner registers its original rights"),
            )
        return deny(_("only the right's holder licenses or transfers it"))
    if actor.role == "reviewer":
        return deny(_("reviewers do not apply for registration"))
    return allow(_("the holder applies for registration"))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``right.view`` as SQL. ``rows.attrs``: ``status``, ``grantor``, ``applicant``,
    ``registration`` (the last two from the right's registration, if any)."""
    if action != "right.view":
        raise no_sql_form(action)
    a = rows.attrs
    public = or_(a["status"] != "pending", a["registration"] == "in_notice")
    if oversees(actor):
        return true()
    if actor.org_id is None:
        return public
    concerned = (rows.owner_org_id, a["grantor"], a["applicant"])
    return or_(public, *(column == actor.org_id for column in concerned))
