"""Rules for the purpose taxonomy: only the platform maintains it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny
from yaosu.kernel.actor import Actor


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "purpose.manage" and actor.is_platform_admin:
        return allow("平台管理员维护用途目录", "the platform maintains the purpose taxonomy")
    return deny("只有平台管理员可以维护用途目录", "only the platform maintains the purposes")
