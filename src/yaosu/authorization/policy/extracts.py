"""Rules for extracts: only the contract's consumer downloads one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, is_member
from yaosu.kernel.actor import Actor


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the contract's consumer, the extract's only recipient."""
    if action != "extract.download":
        return deny(f"数据提取不支持操作 {action}", f"extracts do not support {action}")
    if is_member(actor, resource):
        return allow("协议使用方下载提取的数据", "the contract's consumer downloads its extract")
    return deny(
        "只有协议的使用方可以下载提取的数据", "only the contract's consumer downloads an extract"
    )
