"""Rules for the purpose taxonomy: only the platform maintains it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "purpose.manage" and actor.is_platform_admin:
        return allow(_("the platform maintains the purpose taxonomy"))
    return deny(_("only the platform maintains the purposes"))
