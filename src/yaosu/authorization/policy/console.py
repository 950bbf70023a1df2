"""Rules for the console itself: which pages the navigation offers and which sections the
home page shows. They guard nothing (each page and service decides again about its own
objects); they keep the console from offering what an actor's organisation has no use for.
The resource is ``console``; for ``home.openings`` its ``departments`` attribute names the
departments told when important data is opened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, oversees
from yaosu.kernel.actor import Actor


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    kinds = actor.org_kinds
    if action == "requests.read":
        if kinds & {"consumer", "operator"}:
            return allow("数据使用方与运营方申请数据", "data users and operators request data")
        return deny("只有数据使用方或运营方申请数据", "only data users and operators request data")
    if action == "reviews.read":
        if actor.role in ("reviewer", "admin") and kinds & {"provider", "regulator"}:
            return allow(
                "提供方与监管部门的审核员审核申请", "reviewers of providers and regulators"
            )
        return deny(
            "只有提供方或监管部门的审核员、管理员审核申请",
            "only reviewers and admins of providers and regulators review requests",
        )
    if action == "home.datasets":
        if "provider" in kinds:
            return allow("数据提供方的数据集", "a provider's datasets")
        return deny("只有数据提供方登记数据集", "only providers register datasets")
    if action == "home.usable":
        if kinds & {"consumer", "operator", "assessor"}:
            return allow("可使用的数据", "data the organisation may use")
        return deny("本机构不使用数据", "the organisation does not use data")
    if action == "home.openings":
        if "regulator" in kinds and actor.department in resource.attrs.get("departments", ()):
            return allow("本部门接收重要数据开放通知", "the department is told of openings")
        return deny("本部门不接收重要数据开放通知", "the department is not told of openings")
    if action == "home.oversight":
        if oversees(actor):
            return allow("监管与平台总览", "the oversight overview")
        return deny("只有监管部门与平台可见总览", "only regulators and the platform")
    if action == "home.health":
        if "platform" in kinds:
            return allow("平台运行状况", "the platform's health")
        return deny("只有平台可见运行状况", "only the platform sees its health")
    return deny(f"控制台不支持操作 {action}", f"the console does not support {action}")
