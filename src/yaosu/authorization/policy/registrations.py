"""Rules for registrations: who sees, decides and objects to them."""

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

# The states in which a registration is published (公示), to anyone.
PUBLIC = ("in_notice", "registered", "rejected")


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    public = resource.attrs.get("status") in PUBLIC
    concerned = is_member(actor, resource) or actor.org_id == resource.attrs.get("holder")
    if action == "registration.view":
        if concerned or oversees(actor) or public:
            return allow(_("a published registration, or your own application"))
        return deny(_("an unpublished application is visible to its applicant"))
    if action == "registration.decide":
        if actor.is_platform_admin:
            return allow(_("the registration authority decides"))
        return deny(
            _("only the platform, as registration authority, decides"),
        )
    if action == "registration.object":
        if actor.org_id is None:
            return deny(_("objections are filed by organisations"))
        if concerned:
            return deny(_("an applicant does not object to itself"))
        return allow(_("any organisation may object during the notice"))
    return deny(_("registrations do not support {action}", action=action))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``registration.view`` as SQL. ``rows.attrs``: ``status``, ``holder``."""
    if action != "registration.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(
        is_member_sql(actor, rows),
        rows.attrs["holder"] == actor.org_id,
        rows.attrs["status"].in_(PUBLIC),
    )
