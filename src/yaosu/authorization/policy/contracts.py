"""Rules for contracts: who sees and manages them, and each use checked clause by clause."""

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


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """Contracts: ``owner_org_id`` is the consumer; the attrs are the contract's terms and
    its state (uses and budget spent so far)."""
    a = resource.attrs
    providers = a.get("providers", ())
    party = is_member(actor, resource) or actor.org_id in providers
    if action == "contract.view":
        if party or oversees(actor):
            return allow("协议当事方或监管/平台", "a party to the contract, or oversight")
        return deny("只有协议当事方可以查看", "only the contract's parties see it")
    if action == "contract.manage":
        if actor.is_platform_admin or (actor.has_kind("regulator") and actor.role != "member"):
            return allow("平台或监管部门处置协议", "the platform or a regulator acts on it")
        if actor.org_id in providers and actor.role == "admin":
            return allow("提供方管理员处置协议", "the provider's admin acts on it")
        return deny(
            "只有提供方管理员、监管部门或平台可以暂停、恢复或终止协议",
            "only the provider's admin, a regulator or the platform suspends, resumes or revokes",
        )
    if action == "contract.import":
        if actor.is_platform_admin:
            return allow("平台管理员导入协议", "the platform imports a contract")
        return deny("只有平台管理员可以导入协议", "only the platform imports contracts")
    if action != "contract.use":
        return deny(f"授权协议不支持操作 {action}", f"contracts do not support {action}")
    return _use(actor, resource, ctx)


def _use(actor: Actor, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """One use of a contract, checked clause by clause; the first clause that fails is named."""
    from datetime import UTC, datetime

    a = resource.attrs
    cid = resource.id
    if not is_member(actor, resource):
        return deny(
            f"只有协议 {cid} 的使用方可以使用", f"only contract {cid}'s consumer may use it"
        )
    if a["status"] == "revoked":
        return deny(f"协议 {cid} 已终止", f"contract {cid} has been revoked")
    if a["status"] == "suspended":
        return deny(f"协议 {cid} 已暂停", f"contract {cid} is suspended")
    now = ctx.get("now") or datetime.now(UTC)
    if now < a["starts_at"]:
        return deny(f"协议 {cid} 尚未生效", f"contract {cid} is not in force yet")
    if now >= a["ends_at"]:
        return deny(
            f"协议 {cid} 已于 {a['ends_at']:%Y-%m-%d %H:%M:%S} 到期",
            f"contract {cid} expired at {a['ends_at']:%Y-%m-%d %H:%M:%S}",
        )
    operation = ctx.get("operation")
    if operation not in a["operations"]:
        allowed = "、".join(a["operations"])
        return deny(
            f"协议 {cid} 不允许操作 {operation}（允许：{allowed}）",
            f"contract {cid} does not permit {operation} (it permits: {', '.join(a['operations'])})",
        )
    if ctx.get("purpose") and ctx["purpose"] != a["purpose"]:
        return deny(
            f"协议 {cid} 限定用途为 {a['purpose']}",
            f"contract {cid} is limited to the purpose {a['purpose']}",
        )
    if ctx.get("territory") and ctx["territory"] != a["territory"]:
        return deny(
            f"协议 {cid} 限定使用地域为 {a['territory']}",
            f"contract {cid} is limited to the territory {a['territory']}",
        )
    dataset = ctx.get("dataset_id")
    if dataset not in a["datasets"]:
        return deny(
            f"协议 {cid} 不涵盖数据集 {dataset}", f"contract {cid} does not cover dataset {dataset}"
        )
    fields = list(a["datasets"][dataset])
    asked = ctx.get("fields")
    if asked is not None:
        outside = [f for f in asked if f not in fields]
        if outside:
            return deny(
                f"协议 {cid} 不允许使用字段 {'、'.join(outside)}（允许：{'、'.join(fields)}）",
                f"contract {cid} does not permit the fields {', '.join(outside)} (it permits: {', '.join(fields)})",
            )
    uses = int(ctx.get("uses", 1))
    if a["max_uses"] is not None and a["uses"] + uses > a["max_uses"]:
        return deny(
            f"协议 {cid} 的使用次数已用完（{a['uses']}/{a['max_uses']}）",
            f"contract {cid} has no uses left ({a['uses']} of {a['max_uses']} used)",
        )
    epsilon = float(ctx.get("epsilon") or 0.0)
    budget = a["epsilon_budget"]
    if epsilon and budget is None:
        return deny(
            f"协议 {cid} 没有差分隐私预算",
            f"contract {cid} carries no differential-privacy budget",
        )
    if budget is not None and a["epsilon_spent"] + epsilon > budget + 1e-12:
        left = max(0.0, budget - a["epsilon_spent"])
        return deny(
            f"协议 {cid} 的隐私预算不足：本次需 ε={epsilon:g}，剩余 ε={left:g}",
            f"contract {cid} lacks privacy budget: this needs ε={epsilon:g}, ε={left:g} is left",
        )
    return allow(
        f"协议 {cid} 允许此次使用",
        f"contract {cid} permits this use",
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
    """``contract.view`` as SQL. ``rows.attrs``: ``providers`` (a set: see ``Rows``)."""
    if action != "contract.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.holds("providers", actor.org_id))
