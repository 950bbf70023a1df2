"""Rules for contracts: who sees and manages them, and each use checked clause by clause."""

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


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """Contracts: ``owner_org_id`` is the consumer; the attrs are the contract's terms and
    its state (uses and budget spent so far)."""
    a = resource.attrs
    providers = a.get("providers", ())
    party = is_member(actor, resource) or actor.org_id in providers
    if action == "contract.view":
        if party or oversees(actor):
            return allow(_("a party to the contract, or oversight"))
        return deny(_("only the contract's parties see it"))
    if action == "contract.manage":
        if actor.is_platform_admin or (actor.has_kind("regulator") and actor.role != "member"):
            return allow(_("the platform or a regulator acts on it"))
        if actor.org_id in providers and actor.role == "admin":
            return allow(_("the provider's admin acts on it"))
        return deny(
            _(
                "only the provider's admin, a regulator or the platform suspends, resumes or revokes"
            ),
        )
    if action == "contract.accept":
        return _accept(actor, resource)
    if action == "contract.import":
        if actor.is_platform_admin:
            return allow(_("the platform imports a contract"))
        return deny(_("only the platform imports contracts"))
    if action != "contract.use":
        return deny(_("contracts do not support {action}", action=action))
    return _use(actor, resource, ctx)


def _accept(actor: Actor, resource: Resource) -> Decision:
    """Accepting (or declining) the terms binds the consumer organisation: its admin acts for
    it. Whether the contract still awaits an answer is its state's to say (a 409), not a
    refusal."""
    if not is_member(actor, resource):
        return deny(_("only the data user's organisation accepts or declines its contract"))
    if actor.role != "admin":
        return deny(_("only the data user's admin accepts or declines a contract for it"))
    return allow(_("the data user's admin answers for it"))


def _use(actor: Actor, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """One use of a contract, checked clause by clause; the first clause that fails is named."""
    from datetime import UTC, datetime

    a = resource.attrs
    cid = resource.id
    if not is_member(actor, resource):
        return deny(_("only contract {cid}'s consumer may use it", cid=cid))
    if a["status"] == "offered":
        return deny(
            _(
                "contract {cid} is not in force: the acceptance clause needs the data user to accept its terms first",
                cid=cid,
            )
        )
    if a["status"] == "declined":
        return deny(
            _("contract {cid} never came into force: the data user declined its terms", cid=cid)
        )
    if a["status"] == "revoked":
        return deny(_("contract {cid} has been revoked", cid=cid))
    if a["status"] == "suspended":
        return deny(_("contract {cid} is suspended", cid=cid))
    now = ctx.get("now") or datetime.now(UTC)
    if now < a["starts_at"]:
        return deny(_("contract {cid} is not in force yet", cid=cid))
    if now >= a["ends_at"]:
        return deny(
            _(
                "contract {cid} expired at {ends_at}",
                cid=cid,
                ends_at=format(a["ends_at"], "%Y-%m-%d %H:%M:%S"),
            ),
        )
    operation = ctx.get("operation")
    if operation not in a["operations"]:
        return deny(
            _(
                "contract {cid} does not permit {operation} (it permits: {allowed})",
                cid=cid,
                operation=operation,
                allowed=list(a["operations"]),
            ),
        )
    if ctx.get("purpose") and ctx["purpose"] != a["purpose"]:
        return deny(
            _("contract {cid} is limited to the purpose {purpose}", cid=cid, purpose=a["purpose"]),
        )
    if ctx.get("territory") and ctx["territory"] != a["territory"]:
        return deny(
            _(
                "contract {cid} is limited to the territory {territory}",
                cid=cid,
                territory=a["territory"],
            ),
        )
    dataset = ctx.get("dataset_id")
    if dataset not in a["datasets"]:
        return deny(_("contract {cid} does not cover dataset {dataset}", cid=cid, dataset=dataset))
    fields = list(a["datasets"][dataset])
    asked = ctx.get("fields")
    if asked is not None:
        outside = [f for f in asked if f not in fields]
        if outside:
            return deny(
                _(
                    "contract {cid} does not permit the fields {outside} (it permits: {fields})",
                    cid=cid,
                    outside=outside,
                    fields=fields,
                ),
            )
    uses = int(ctx.get("uses", 1))
    if a["max_uses"] is not None and a["uses"] + uses > a["max_uses"]:
        return deny(
            _(
                "contract {cid} has no uses left ({uses} of {max_uses} used)",
                cid=cid,
                uses=a["uses"],
                max_uses=a["max_uses"],
            ),
        )
    epsilon = float(ctx.get("epsilon") or 0.0)
    budget = a["epsilon_budget"]
    if epsilon and budget is None:
        return deny(
            _("contract {cid} carries no differential-privacy budget", cid=cid),
        )
    if budget is not None and a["epsilon_spent"] + epsilon > budget + 1e-12:
        left = max(0.0, budget - a["epsilon_spent"])
        return deny(
            _(
                "contract {cid} lacks privacy budget: this needs ε={epsilon}, ε={left} is left",
                cid=cid,
                epsilon=format(epsilon, "g"),
                left=format(left, "g"),
            ),
        )
    return allow(
        _("contract {cid} permits this use", cid=cid),
        "audit-access",
        terms={
            "contract": cid,
            "columns": fields,
            "masks": dict(a.get("masks", {}).get(dataset, {})),
            "row_filter": a.get("row_filters", {}).get(dataset),
            "min_group_size": a["min_group_size"],
            "charge": {"uses": uses, "epsilon": epsilon},
            "prohibitions": list(a.get("prohibitions", ())),
        },
    )


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``contract.view`` and ``contract.accept`` (the contracts one may accept, for a list
    of those awaiting it) as SQL. ``rows.attrs``: ``providers`` (a set: see ``Rows``)."""
    if action == "contract.accept":
        return is_member_sql(actor, rows) if actor.role == "admin" else false()
    if action != "contract.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.holds("providers", actor.org_id))
