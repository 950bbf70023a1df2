"""Rules for the console itself: which pages the navigation offers and which sections the
home page shows. They guard nothing (each page and service decides again about its own
objects); they keep the console from offering what an actor's organisation has no use for.
The resource is ``console``; for ``home.openings`` its ``departments`` attribute names the
departments told when important data is opened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaosu.authorization.policy.decision import Decision, Resource, allow, deny, oversees
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    kinds = actor.org_kinds
    if action == "requests.read":
        if kinds & {"consumer", "operator"}:
            return allow(_("data users and operators request data"))
        return deny(_("only data users and operators request data"))
    if action == "reviews.read":
        if actor.role in ("reviewer", "admin") and kinds & {"provider", "regulator"}:
            return allow(_("reviewers of providers and regulators"))
        return deny(_("only reviewers and admins of providers and regulators review requests"))
    if action == "home.datasets":
        if "provider" in kinds:
            return allow(_("a provider's datasets"))
        return deny(_("only providers register datasets"))
    if action == "home.usable":
        if kinds & {"consumer", "operator", "assessor"}:
            return allow(_("data the organisation may use"))
        return deny(_("the organisation does not use data"))
    if action == "home.openings":
        if "regulator" in kinds and actor.department in resource.attrs.get("departments", ()):
            return allow(_("the department is told of openings"))
        return deny(_("the department is not told of openings"))
    if action == "home.oversight":
        if oversees(actor):
            return allow(_("the oversight overview"))
        return deny(_("only regulators and the platform"))
    if action == "home.health":
        if "platform" in kinds:
            return allow(_("the platform's health"))
        return deny(_("only the platform sees its health"))
    return deny(_("the console does not support {action}", action=action))
