"""Rules for lineage events: who reads the record of what was derived from what.

A lineage event's ``owner_org_id`` is the organisation that ran it; ``attrs``: ``orgs``, the
organisations behind the datasets it names (as a set in a ``Resource``, as "the set holds
it" in ``Rows``). An organisation reads the events it ran or that name its data; oversight
reads all of them. A product's or a dataset's lineage graph is shown to whoever may see the
product or the dataset: the graph pages ask those rules, and this one for what lies
downstream of a dataset (who used it)."""

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
    if action != "lineage.view":
        return deny(_("lineage does not support {action}", action=action))
    if oversees(actor):
        return allow(_("oversight reads all lineage"))
    if is_member(actor, resource) or (
        actor.org_id is not None and actor.org_id in resource.attrs.get("orgs", ())
    ):
        return allow(_("the organisation ran it, or it names the organisation's data"))
    return deny(_("lineage is read by the organisations it concerns and oversight"))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``lineage.view`` as SQL."""
    if action != "lineage.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.holds("orgs", actor.org_id))
