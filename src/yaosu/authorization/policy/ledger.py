"""Rules for the market's ledger: who sees a participant's settlement statements, who sees
the reconciliation, who imports bank statement files, runs clearing and expires pendings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, true

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

# What only the platform's administrators do: they change the ledger or the bank's record.
PLATFORM_ONLY = ("ledger.settle", "ledger.import", "ledger.expire")


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``ledger.view``: a statement (``owner_org_id``: its participant); the other actions
    are about the ledger as a whole."""
    if action == "ledger.view":
        if is_member(actor, resource):
            return allow(_("your organisation's own settlement statements"))
        if oversees(actor):
            return allow(_("the platform and regulators see every statement"))
        return deny(_("a settlement statement is its participant's and oversight's only"))
    if action == "ledger.reconcile":
        if oversees(actor):
            return allow(_("the platform and regulators see the reconciliation"))
        return deny(_("only the platform and regulators see the reconciliation"))
    if action in PLATFORM_ONLY:
        if actor.is_platform_admin:
            return allow(_("the platform's administrators run clearing and import bank files"))
        return deny(_("only the platform's administrators run clearing and import bank files"))
    return deny(_("the ledger does not support {action}", action=action))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``ledger.view`` of each statement, as SQL."""
    if action != "ledger.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return is_member_sql(actor, rows)
