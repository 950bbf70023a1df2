"""Rules for organisations: their members and tokens, and witnessing the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, is_member, oversees
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action == "org.view":
        if is_member(actor, resource) or oversees(actor):
            return allow(_("own organisation, or oversight"))
        return deny(_("only your own organisation's members and tokens"))
    if action == "org.manage":
        if actor.is_platform_admin:
            return allow(_("platform administrator"))
        if is_member(actor, resource) and actor.role == "admin":
            return allow(_("organisation administrator"))
        return deny(_("needs the organisation's admin role"))
    if action == "audit.witness":
        if is_member(actor, resource) and actor.has_kind("regulator") and actor.role != "member":
            return allow(_("a regulator witnesses the log"))
        return deny(
            _("only a regulator's admin or reviewer witnesses"),
        )
    return deny(_("organisations do not support {action}", action=action))
