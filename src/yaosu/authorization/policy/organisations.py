"""Rules for organisations: their members and tokens, and witnessing the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, is_member, oversees
from yaosu.kernel.actor import Actor


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "org.view":
        if is_member(actor, resource) or oversees(actor):
            return allow("本机构或监管/平台", "own organisation, or oversight")
        return deny("只能查看本机构的成员与令牌", "only your own organisation's members and tokens")
    if action == "org.manage":
        if actor.is_platform_admin:
            return allow("平台管理员", "platform administrator")
        if is_member(actor, resource) and actor.role == "admin":
            return allow("本机构管理员", "organisation administrator")
        return deny("需要本机构管理员角色", "needs the organisation's admin role")
    if action == "audit.witness":
        if is_member(actor, resource) and actor.has_kind("regulator") and actor.role != "member":
            return allow("监管部门作为见证方联署", "a regulator witnesses the log")
        return deny(
            "只有监管部门的管理员或审核员可以担任见证方",
            "only a regulator's admin or reviewer witnesses",
        )
    return deny(f"机构不支持操作 {action}", f"organisations do not support {action}")
