"""Rules for background jobs: who sees and who cancels them."""

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
    mine = resource.attrs.get("created_by") == actor.id
    if action == "job.view":
        if mine or is_member(actor, resource) or oversees(actor):
            return allow(_("own, own organisation's, or oversight"))
        return deny(_("only your own or your organisation's jobs"))
    if action == "job.cancel":
        if (
            mine
            or actor.is_platform_admin
            or (is_member(actor, resource) and actor.role == "admin")
        ):
            return allow(_("the submitter or an administrator cancels"))
        return deny(_("only the submitter or an admin cancels"))
    return deny(_("jobs do not support {action}", action=action))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``job.view`` as SQL. ``rows.attrs``: ``created_by``."""
    if action != "job.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(rows.attrs["created_by"] == actor.id, is_member_sql(actor, rows))
