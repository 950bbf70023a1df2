"""Rules for datasets: who registers, sees, changes, screens, reviews, profiles, reads and
requests them; ``where`` is ``dataset.view`` as SQL, for listings."""

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
        if is_member(actor, resource):
            return allow("本机构的数据集", "own organisation's dataset")
        if oversees(actor):
            return allow("监管与平台可查看全部目录", "regulators and the platform see the catalog")
        if openness in ("open", "conditional"):
            return allow("公开目录中的数据集", "listed in the public catalog")
        return deny(
            "不予开放的数据集仅对提供方可见", "closed datasets are visible to their provider"
        )
    if action == "dataset.edit":
        if not is_member(actor, resource):
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
        if is_member(actor, resource) or actor.is_platform_admin:
            return allow("提供方筛查自有数据", "the provider screens its own data")
        return deny("只有提供方可以筛查数据", "only the provider screens its data")
    if action == "screen.view":
        if is_member(actor, resource) or actor.is_platform_admin:
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
        if is_member(actor, resource) and actor.role in ("reviewer", "admin"):
            return allow("提供方审核员确认筛查结果", "the provider's reviewer confirms the screen")
        return deny("需要提供方的审核员或管理员确认", "needs the provider's reviewer or admin")
    if action == "dataset.profile":
        return _profile(actor, resource)
    if action == "dataset.read":
        if is_member(actor, resource):
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
    if is_member(actor, resource):
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
    if is_member(actor, resource):
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


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``dataset.view`` as SQL, for listing, search and export: the same rule as ``rule``
    (tests/authorization/test_visible.py checks the two agree for every actor and dataset).
    ``rows.attrs``: ``openness``."""
    if action != "dataset.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.attrs["openness"].in_(("open", "conditional")))
