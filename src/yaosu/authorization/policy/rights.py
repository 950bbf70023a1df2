"""Rules for data rights: who sees a right and who applies to register one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, is_member, oversees
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """``owner_org_id``: the dataset's owner (an original right) or the parent right's holder;
    for ``right.view``, the right's holder."""
    if action == "right.view":
        a = resource.attrs
        if a.get("status") != "pending" or a.get("registration") == "in_notice":
            return allow(_("a registered right, or one in public notice"))
        concerned = (resource.owner_org_id, a.get("grantor"), a.get("applicant"))
        if (actor.org_id is not None and actor.org_id in concerned) or oversees(actor):
            return allow(_("your own pending right, or oversight"))
        return deny(
            _("a right whose registration is not yet public is visible to its parties"),
        )
    if action != "right.apply":
        return deny(_("rights do not support {action}", action=action))
    if not is_member(actor, resource):
        if resource.attrs.get("original"):
            return deny(
                _("only the dataset's owner registers its original rights"),
            )
        return deny(_("only the right's holder licenses or transfers it"))
    if actor.role == "reviewer":
        return deny(_("reviewers do not apply for registration"))
    return allow(_("the holder applies for registration"))
