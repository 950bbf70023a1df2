"""Rules for background jobs: who sees and who cancels them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, is_member, oversees
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    mine = resource.attrs.get("created_by") == actor.id
    if action == "job.view":
        if mine or is_member(actor, resource) or oversees(actor):
            return allow(_("own, own organisation's, or oversight"))
        return deny(_("only your own or your organisation's jobs"))
    if action == "job.cancel":
        if (
            mine
            or actor.is_platform_admin
            or (is_member(actor, resource) and actor.role == "admin")
        ):
            return allow(_("the submitter or an administrator cancels"))
        return deny(_("only the submitter or an admin cancels"))
    return deny(_("jobs do not support {action}", action=action))
