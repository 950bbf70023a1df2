"""The one decision function. Routes and services never check ownership inline.

``decide(actor, action, resource, context)`` returns a ``Decision`` with a reason
in both languages and any obligations the caller must honour (for example
``audit-access``). ``enforce`` raises ``Forbidden`` on a denial; the denial is
written to the audit log by the API's error handler, in its own transaction,
because the caller's transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import Forbidden, NotFound, ScopeMissing, YaosuError


@dataclass(frozen=True)
class Resource:
    type: str  # dataset | organisation | audit | token
    id: str
    owner_org_id: str | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_zh: str
    reason_en: str
    obligations: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return f"{self.reason_en} / {self.reason_zh}"


def allow(zh: str, en: str, *obligations: str) -> Decision:
    return Decision(True, zh, en, tuple(obligations))


def deny(zh: str, en: str) -> Decision:
    return Decision(False, zh, en)


# The API-token scope each action needs. An action missing here is refused: new actions
# must be placed deliberately.
SCOPE_OF = {
    "dataset.view": "read",
    "dataset.read": "read",
    "dataset.create": "write",
    "dataset.edit": "write",
    "dataset.screen": "write",
    "dataset.review": "write",
    "org.view": "read",
    "org.manage": "admin",
    "audit.view": "read",
    "audit.checkpoint": "admin",
    "audit.witness": "write",
}

# Actions whose denial should look like absence, so ids of private objects leak nothing.
HIDE_ON_DENY = {"dataset.view", "org.view"}


def decide(
    actor: Actor, action: str, resource: Resource, context: Mapping[str, Any] | None = None
) -> Decision:
    scope = SCOPE_OF.get(action)
    if scope is None:
        return deny(f"未知操作 {action}", f"unknown action {action}")
    if actor.scopes is not None and scope not in actor.scopes:
        return deny(f"令牌缺少权限范围 {scope}", f"token lacks scope {scope}")
    if actor.is_system:
        return allow("本机运维操作", "local operator on the server")
    rule = _RULES.get(resource.type)
    if rule is None:
        return deny(f"未知资源类型 {resource.type}", f"unknown resource type {resource.type}")
    return rule(actor, action, resource, context or {})


def enforce(
    actor: Actor, action: str, resource: Resource, context: Mapping[str, Any] | None = None
) -> Decision:
    decision = decide(actor, action, resource, context)
    if decision.allowed:
        return decision
    error: YaosuError
    if actor.scopes is not None and SCOPE_OF.get(action) not in actor.scopes:
        error = ScopeMissing(scope=SCOPE_OF.get(action), action=action, resource_id=resource.id)
    elif action in HIDE_ON_DENY:
        error = NotFound(kind=_KIND_ZH.get(resource.type, resource.type), id=resource.id)
    else:
        error = Forbidden(
            reason_zh=decision.reason_zh,
            reason_en=decision.reason_en,
            action=action,
            resource_type=resource.type,
            resource_id=resource.id,
        )
    # The API's error handler writes this to the audit log after the rollback.
    error.denial = Denial(actor, action, resource, decision)
    raise error


@dataclass(frozen=True)
class Denial:
    actor: Actor
    action: str
    resource: Resource
    decision: Decision


_KIND_ZH = {"dataset": "数据集", "organisation": "机构"}


def _is_member(actor: Actor, resource: Resource) -> bool:
    return actor.org_id is not None and actor.org_id == resource.owner_org_id


def _oversees(actor: Actor) -> bool:
    return actor.has_kind("regulator") or actor.has_kind("platform")


def _dataset(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    openness = resource.attrs.get("openness")
    if action == "dataset.create":
        if not actor.has_kind("provider"):
            return deny("只有数据提供方可以登记数据集", "only providers register datasets")
        if actor.role == "reviewer":
            return deny("审核员不能登记数据集", "reviewers cannot register datasets")
        return allow("数据提供方登记自有数据", "provider registers its own data")
    if action == "dataset.view":
        if _is_member(actor, resource):
            return allow("本机构的数据集", "own organisation's dataset")
        if _oversees(actor):
            return allow("监管与平台可查看全部目录", "regulators and the platform see the catalog")
        if openness in ("open", "conditional"):
            return allow("公开目录中的数据集", "listed in the public catalog")
        return deny(
            "不予开放的数据集仅对提供方可见", "closed datasets are visible to their provider"
        )
    if action == "dataset.edit":
        if not _is_member(actor, resource):
            return deny("只能修改本机构的数据集", "only the owning organisation may change it")
        if actor.role == "reviewer":
            return deny("审核员不能修改数据集", "reviewers cannot change datasets")
        opening = ctx.get("opening") and resource.attrs.get("has_versions", True)
        if opening and not resource.attrs.get("screened_clean"):
            return deny(
                "设为无条件开放前，最新版本须经隐私筛查并确认不含个人信息和公共安全风险",
                "to open it, the latest version's privacy screen must be confirmed free of personal information and security flags",
            )
        return allow("本机构成员维护自有数据集", "member maintains own dataset")
    if action == "dataset.screen":
        if _is_member(actor, resource) or actor.is_platform_admin:
            return allow("提供方筛查自有数据", "the provider screens its own data")
        return deny("只有提供方可以筛查数据", "only the provider screens its data")
    if action == "dataset.review":
        if _is_member(actor, resource) and actor.role in ("reviewer", "admin"):
            return allow("提供方审核员确认筛查结果", "the provider's reviewer confirms the screen")
        return deny("需要提供方的审核员或管理员确认", "needs the provider's reviewer or admin")
    if action == "dataset.read":
        if _is_member(actor, resource):
            return allow("本机构的数据", "own organisation's data", "audit-access")
        if openness == "open":
            if not resource.attrs.get("screened_clean"):
                return deny(
                    "该版本尚未完成隐私筛查确认，暂不能被他人使用",
                    "this version's privacy screen is not yet confirmed; others cannot use it yet",
                )
            return allow("无条件开放数据", "unconditionally open data", "audit-access")
        if openness == "conditional":
            return deny(
                "有条件开放数据须经申请、审核并签订合同后使用",
                "conditionally open data needs an approved request and a contract",
            )
        return deny("不予开放的数据不能使用", "closed data cannot be used")
    return deny(f"数据集不支持操作 {action}", f"datasets do not support {action}")


def _organisation(
    actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]
) -> Decision:
    if action == "org.view":
        if _is_member(actor, resource) or _oversees(actor):
            return allow("本机构或监管/平台", "own organisation, or oversight")
        return deny("只能查看本机构的成员与令牌", "only your own organisation's members and tokens")
    if action == "org.manage":
        if actor.is_platform_admin:
            return allow("平台管理员", "platform administrator")
        if _is_member(actor, resource) and actor.role == "admin":
            return allow("本机构管理员", "organisation administrator")
        return deny("需要本机构管理员角色", "needs the organisation's admin role")
    if action == "audit.witness":
        if _is_member(actor, resource) and actor.has_kind("regulator") and actor.role != "member":
            return allow("监管部门作为见证方联署", "a regulator witnesses the log")
        return deny(
            "只有监管部门的管理员或审核员可以担任见证方",
            "only a regulator's admin or reviewer witnesses",
        )
    return deny(f"机构不支持操作 {action}", f"organisations do not support {action}")


def _audit(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "audit.checkpoint":
        if actor.is_platform_admin:
            return allow("平台管理员签发检查点", "the platform signs checkpoints")
        return deny("只有平台管理员可以签发检查点", "only the platform signs checkpoints")
    if action != "audit.view":
        return deny(f"审计日志不支持操作 {action}", f"the audit log does not support {action}")
    if _oversees(actor):
        return allow("监管与平台可查看全部审计记录", "oversight sees the whole log")
    about = {resource.attrs.get("actor_org_id"), resource.attrs.get("object_org_id")}
    if resource.id != "log" and actor.org_id not in about:
        return deny("只能查看与本机构相关的审计记录", "only entries about your organisation")
    if actor.org_id:
        return allow("可查看与本机构相关的审计记录", "entries about your organisation")
    return deny("需要登录机构账号", "needs an organisation account")


_RULES = {"dataset": _dataset, "organisation": _organisation, "audit": _audit}


def dataset_visibility(actor: Actor, owner_org_id: Any, openness: Any) -> Any:
    """``dataset.view`` as an SQL predicate, for listing and search. It states the same rule
    as ``_dataset`` above (tests check the two agree for every actor and dataset)."""
    from sqlalchemy import or_, true

    if actor.scopes is not None and "read" not in actor.scopes:
        from sqlalchemy import false

        return false()
    if actor.is_system or _oversees(actor):
        return true()
    clauses = [openness.in_(("open", "conditional"))]
    if actor.org_id:
        clauses.append(owner_org_id == actor.org_id)
    return or_(*clauses)
