"""The one decision function. Routes and services never check ownership inline.

``decide(actor, action, resource, context)`` returns a ``Decision`` with a reason
in both languages and any obligations the caller must honour (for example
``audit-access``). ``enforce`` raises ``Forbidden`` on a denial, carrying the
denial; ``record_denial`` writes it to the audit log exactly once, whichever door
the request came through: the API's error handler (in its own transaction, after
the caller's was rolled back), a console page that shows the refusal itself, the
CLI, or a background job.
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
    """The answer, its reason in both languages, and what the caller must honour: flags such
    as ``audit-access``, and for a contract's use the ``terms`` (columns allowed, minimum
    group size, what to charge: uses and epsilon)."""

    allowed: bool
    reason_zh: str
    reason_en: str
    obligations: tuple[str, ...] = ()
    terms: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return f"{self.reason_en} / {self.reason_zh}"


def allow(zh: str, en: str, *obligations: str, terms: Mapping[str, Any] | None = None) -> Decision:
    return Decision(True, zh, en, tuple(obligations), dict(terms or {}))


def deny(zh: str, en: str) -> Decision:
    return Decision(False, zh, en)


# The API-token scope each action needs. An action missing here is refused: new actions
# must be placed deliberately.
SCOPE_OF = {
    "dataset.view": "read",
    "dataset.read": "read",
    "dataset.profile": "read",
    "dataset.create": "write",
    "dataset.edit": "write",
    "dataset.screen": "write",
    "dataset.review": "write",
    "screen.view": "read",
    "extract.download": "read",
    "org.view": "read",
    "org.manage": "admin",
    "audit.view": "read",
    "audit.checkpoint": "admin",
    "audit.witness": "write",
    "job.view": "read",
    "job.cancel": "write",
    "dataset.request": "write",
    "request.view": "read",
    "request.withdraw": "write",
    "request.review": "write",
    "contract.view": "read",
    "contract.use": "write",  # a use spends the contract's uses and budget, even a dry run
    "contract.manage": "admin",
    "contract.import": "admin",
    "purpose.manage": "admin",
    "right.apply": "write",
    "right.view": "read",
    "registration.view": "read",
    "registration.decide": "admin",
    "registration.object": "write",
}

# Actions whose denial should look like absence, so ids of private objects leak nothing.
HIDE_ON_DENY = {
    "dataset.view",
    "org.view",
    "job.view",
    "request.view",
    "contract.view",
    "registration.view",
    "right.view",
}


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


def record_denial(
    session: Any, error: BaseException, request: Mapping[str, Any] | None = None
) -> bool:
    """Writes the one deny entry of a refusal raised by ``enforce``, in ``session``; a second
    call for the same error writes nothing. Returns whether it wrote."""
    from yaosu.audit.service import record

    denial = getattr(error, "denial", None)
    if denial is None or getattr(error, "denial_recorded", False):
        return False
    record(
        session,
        denial.actor,
        denial.action,
        denial.resource.type,
        denial.resource.id,
        object_org_id=denial.resource.owner_org_id,
        allowed=False,
        reason=denial.decision.reason,
        request=request,
    )
    error.denial_recorded = True  # type: ignore[attr-defined]
    return True


_KIND_ZH = {
    "dataset": "数据集",
    "organisation": "机构",
    "job": "后台任务",
    "request": "授权申请",
    "contract": "授权协议",
    "registration": "登记",
    "extract": "数据提取",
    "right": "权利",
}


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
        # Registering it as open exposes nothing yet: its versions are readable by others
        # only once the provider's reviewer confirms their screen clean.
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
        if ctx.get("widening") and actor.role != "admin":
            # Opening data is the provider's decision, not any one member's: closed to
            # conditional, or either to open, needs the organisation's admin.
            return deny(
                "扩大数据集的开放范围（如设为无条件开放）须由本机构管理员决定",
                "widening a dataset's openness (such as opening it) needs the organisation's admin",
            )
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
    if action == "screen.view":
        if _is_member(actor, resource) or actor.is_platform_admin:
            return allow("提供方查看自有数据的筛查报告", "the provider reads its screen reports")
        if actor.org_id is not None and actor.org_id in resource.attrs.get("reviewing_orgs", ()):
            return allow(
                "审核方查看待审申请所涉数据的筛查报告",
                "a reviewer routed a request reads the screen of the data it must judge",
            )
        return deny(
            "只有提供方和该数据待审申请的审核方可以查看筛查报告",
            "only the provider and the reviewers of a pending request for it read its screen",
        )
    if action == "dataset.review":
        if _is_member(actor, resource) and actor.role in ("reviewer", "admin"):
            return allow("提供方审核员确认筛查结果", "the provider's reviewer confirms the screen")
        return deny("需要提供方的审核员或管理员确认", "needs the provider's reviewer or admin")
    if action == "dataset.profile":
        return _profile(actor, resource)
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
    if action == "dataset.request":
        return _requestable(actor, resource)
    return deny(f"数据集不支持操作 {action}", f"datasets do not support {action}")


# Obligations of ``dataset.profile``: what the caller must withhold from a column profile.
PROFILE_NO_VALUES = "profile-no-values"
PROFILE_WITHHOLD_PERSONAL = "profile-withhold-personal"


def _profile(actor: Actor, resource: Resource) -> Decision:
    """Who sees the values in a version's column profile (min, max, mean, frequent values).
    Everyone who may see the dataset sees its schema; values only the provider, or anyone
    for the columns the version's confirmed screen found to be neither personal information
    nor an identifier. Regulators and the platform are outsiders here too."""
    if _is_member(actor, resource):
        return allow("本机构的数据集：完整字段概况", "own organisation's dataset: the full profile")
    if not resource.attrs.get("screen_confirmed"):
        return allow(
            "该版本的隐私筛查尚未确认，字段概况不显示任何取值",
            "this version's privacy screen is not confirmed: the profile shows no values",
            PROFILE_NO_VALUES,
        )
    return allow(
        "个人信息、敏感个人信息和标识符字段只显示类型、空值比例和长度",
        "personal, sensitive and identifier columns show only type, null ratio and length",
        PROFILE_WITHHOLD_PERSONAL,
    )


def _requestable(actor: Actor, resource: Resource) -> Decision:
    """Whether this dataset may be named in an access request, by this actor."""
    if not (actor.has_kind("consumer") or actor.has_kind("operator")):
        return deny(
            "只有数据使用方或运营方可以申请数据", "only data users and operators request data"
        )
    if actor.role == "reviewer":
        return deny("审核员不能提交授权申请", "reviewers do not submit requests")
    if _is_member(actor, resource):
        return deny("本机构的数据无需申请", "your own organisation's data needs no request")
    openness, grade = resource.attrs.get("openness"), resource.attrs.get("grade")
    if openness == "open":
        return deny(
            "无条件开放数据无需申请，可直接使用（使用仍会记录）",
            "open data needs no request: use it directly (the use is still logged)",
        )
    if openness != "conditional":
        return deny("不予开放的数据不能申请", "closed data cannot be requested")
    if grade is None:
        return deny(
            "该数据集的隐私筛查尚未经提供方确认，暂不能申请",
            "the provider has not yet confirmed this dataset's privacy screen; it cannot be requested yet",
        )
    if grade == "core":
        return deny("核心数据不能申请使用", "core data cannot be requested")
    return allow("有条件开放数据，可按用途申请", "conditionally open data, requested for a purpose")


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


def _job(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    mine = resource.attrs.get("created_by") == actor.id
    if action == "job.view":
        if mine or _is_member(actor, resource) or _oversees(actor):
            return allow(
                "本人、本机构或监管/平台的后台任务", "own, own organisation's, or oversight"
            )
        return deny("只能查看本人或本机构的后台任务", "only your own or your organisation's jobs")
    if action == "job.cancel":
        if (
            mine
            or actor.is_platform_admin
            or (_is_member(actor, resource) and actor.role == "admin")
        ):
            return allow("提交人或管理员取消任务", "the submitter or an administrator cancels")
        return deny("只有提交人或本机构管理员可以取消", "only the submitter or an admin cancels")
    return deny(f"后台任务不支持操作 {action}", f"jobs do not support {action}")


def _request(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """Access requests: ``owner_org_id`` is the requester; ``reviewers`` the organisations whose
    review the routing rules require."""
    reviewers = resource.attrs.get("reviewers", ())
    if action == "request.view":
        if _is_member(actor, resource) or actor.org_id in reviewers or _oversees(actor):
            return allow("申请方、审核方或监管/平台", "requester, a reviewer, or oversight")
        return deny("只有申请方与审核方可以查看申请", "only the requester and its reviewers see it")
    if action == "request.withdraw":
        if _is_member(actor, resource) and actor.role != "reviewer":
            return allow("申请方撤回申请", "the requester withdraws")
        return deny("只有申请方可以撤回申请", "only the requester withdraws")
    if action == "request.review":
        if actor.org_id not in reviewers:
            return deny(
                "本机构不是该申请的审核方", "your organisation does not review this request"
            )
        if actor.role not in ("reviewer", "admin"):
            return deny("需要审核员或管理员角色", "needs the reviewer or admin role")
        return allow("本机构审核该申请", "your organisation reviews this request")
    return deny(f"授权申请不支持操作 {action}", f"requests do not support {action}")


def _contract(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """Contracts: ``owner_org_id`` is the consumer; the attrs are the contract's terms and
    its state (uses and budget spent so far)."""
    a = resource.attrs
    providers = a.get("providers", ())
    party = _is_member(actor, resource) or actor.org_id in providers
    if action == "contract.view":
        if party or _oversees(actor):
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
    if not _is_member(actor, resource):
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


def _extract(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the contract's consumer, the extract's only recipient."""
    if action != "extract.download":
        return deny(f"数据提取不支持操作 {action}", f"extracts do not support {action}")
    if _is_member(actor, resource):
        return allow("协议使用方下载提取的数据", "the contract's consumer downloads its extract")
    return deny(
        "只有协议的使用方可以下载提取的数据", "only the contract's consumer downloads an extract"
    )


def _purpose(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "purpose.manage" and actor.is_platform_admin:
        return allow("平台管理员维护用途目录", "the platform maintains the purpose taxonomy")
    return deny("只有平台管理员可以维护用途目录", "only the platform maintains the purposes")


def _right(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the dataset's owner (an original right) or the parent right's holder;
    for ``right.view``, the right's holder."""
    if action == "right.view":
        a = resource.attrs
        if a.get("status") != "pending" or a.get("registration") == "in_notice":
            return allow("已登记或正在公示的权利", "a registered right, or one in public notice")
        concerned = (resource.owner_org_id, a.get("grantor"), a.get("applicant"))
        if (actor.org_id is not None and actor.org_id in concerned) or _oversees(actor):
            return allow("本机构申请中的权利，或监管/平台", "your own pending right, or oversight")
        return deny(
            "登记中尚未公示的权利只对当事方可见",
            "a right whose registration is not yet public is visible to its parties",
        )
    if action != "right.apply":
        return deny(f"权利不支持操作 {action}", f"rights do not support {action}")
    if not _is_member(actor, resource):
        if resource.attrs.get("original"):
            return deny(
                "只有数据集的所有机构可以登记原始权利",
                "only the dataset's owner registers its original rights",
            )
        return deny(
            "只有权利持有机构可以许可或转让", "only the right's holder licenses or transfers it"
        )
    if actor.role == "reviewer":
        return deny("审核员不能申请登记", "reviewers do not apply for registration")
    return allow("权利持有机构申请登记", "the holder applies for registration")


def _registration(
    actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]
) -> Decision:
    public = resource.attrs.get("status") in ("in_notice", "registered", "rejected")
    concerned = _is_member(actor, resource) or actor.org_id == resource.attrs.get("holder")
    if action == "registration.view":
        if concerned or _oversees(actor) or public:
            return allow(
                "公示的登记或本机构的申请", "a published registration, or your own application"
            )
        return deny(
            "未公示的登记只对申请方可见", "an unpublished application is visible to its applicant"
        )
    if action == "registration.decide":
        if actor.is_platform_admin:
            return allow("登记机构受理、审查与发证", "the registration authority decides")
        return deny(
            "只有平台（登记机构）可以受理、审查与发证",
            "only the platform, as registration authority, decides",
        )
    if action == "registration.object":
        if actor.org_id is None:
            return deny("需要以机构身份提出异议", "objections are filed by organisations")
        if concerned:
            return deny("申请方不能对自己的登记提出异议", "an applicant does not object to itself")
        return allow(
            "任何机构可在公示期内提出异议", "any organisation may object during the notice"
        )
    return deny(f"登记不支持操作 {action}", f"registrations do not support {action}")


_RULES = {
    "dataset": _dataset,
    "right": _right,
    "registration": _registration,
    "organisation": _organisation,
    "audit": _audit,
    "job": _job,
    "request": _request,
    "contract": _contract,
    "purpose": _purpose,
    "extract": _extract,
}


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
