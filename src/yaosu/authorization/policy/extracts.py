"""Rules for extracts: only the contract's consumer downloads one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, is_member
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the contract's consumer, the extract's only recipient."""
    if action != "extract.download":
        return deny(_("extracts do not support {action}", action=action))
    if is_member(actor, resource):
        return allow(_("the contract's consumer downloads its extract"))
    return deny(_("only the contract's consumer downloads an extract"))
