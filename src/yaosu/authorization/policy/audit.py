"""Rules for the audit log: who reads which entries, who signs checkpoints."""

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
    no_sql_form,
    oversees,
)
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "audit.checkpoint":
        if actor.is_platform_admin:
            return allow(_("the platform signs checkpoints"))
        return deny(_("only the platform signs checkpoints"))
    if action != "audit.view":
        return deny(_("the audit log does not support {action}", action=action))
    if oversees(actor):
        return allow(_("oversight sees the whole log"))
    about = {resource.attrs.get("actor_org_id"), resource.attrs.get("object_org_id")}
    if resource.id != "log" and actor.org_id not in about:
        return deny(_("only entries about your organisation"))
    if actor.org_id:
        return allow(_("entries about your organisation"))
    return deny(_("needs an organisation account"))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``audit.view`` of each entry, as SQL. ``rows.attrs``: ``actor_org_id``,
    ``object_org_id``."""
    if action != "audit.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    if not actor.org_id:
        return false()
    return or_(
        rows.attrs["actor_org_id"] == actor.org_id, rows.attrs["object_org_id"] == actor.org_id
    )
