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
from yaosu.kernel.i18n import _


def rule(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    openness = resource.attrs.get("openness")
    if action == "dataset.create":
        if not actor.has_kind("provider"):
            return deny(_("only providers register datasets"))
        if actor.role == "reviewer":
            return deny(_("reviewers cannot register datasets"))
        # Registering it as open exposes nothing yet: its versions are readable by others
        # only once the provider's reviewer confirms their screen clean.
        return allow(_("provider registers its own data"))
    if action == "dataset.view":
        if is_member(actor, resource):
            return allow(_("own organisation's dataset"))
        if oversees(actor):
            return allow(_("regulators and the platform see the catalog"))
        if openness in ("open", "conditional"):
            return allow(_("listed in the public catalog"))
        return deny(_("closed datasets are visible to their provider"))
    if action == "dataset.edit":
        if not is_member(actor, resource):
            return deny(_("only the owning organisation may change it"))
        if actor.role == "reviewer":
            return deny(_("reviewers cannot change datasets"))
        if ctx.get("widening") and actor.role != "admin":
            # Opening data is the provider's decision, not any one member's: closed to
            # conditional, or either to open, needs the organisation's admin.
            return deny(
                _(
                    "widening a dataset's openness (such as opening it) needs the organisation's admin"
                ),
            )
        opening = ctx.get("opening") and resource.attrs.get("has_versions", True)
        if opening and not resource.attrs.get("screened_clean"):
            return deny(
                _(
                    "to open it, the latest version's privacy screen must be confirmed free of personal information and security flags"
                ),
            )
        return allow(_("member maintains own dataset"))
    if action == "dataset.screen":
        if is_member(actor, resource) or actor.is_platform_admin:
            return allow(_("the provider screens its own data"))
        return deny(_("only the provider screens its data"))
    if action == "screen.view":
        if is_member(actor, resource) or actor.is_platform_admin:
            return allow(_("the provider reads its screen reports"))
        if actor.org_id is not None and actor.org_id in resource.attrs.get("reviewing_orgs", ()):
            return allow(
                _("a reviewer routed a request reads the screen of the data it must judge"),
            )
        return deny(
            _("only the provider and the reviewers of a pending request for it read its screen"),
        )
    if action == "dataset.review":
        if is_member(actor, resource) and actor.role in ("reviewer", "admin"):
            return allow(_("the provider's reviewer confirms the screen"))
        return deny(_("needs the provider's reviewer or admin"))
    if action == "dataset.profile":
        return _profile(actor, resource)
    if action == "dataset.read":
        if is_member(actor, resource):
            return allow(_("own organisation's data"), "audit-access")
        if openness == "open":
            if not resource.attrs.get("screened_clean"):
                return deny(
                    _(
                        "this version's privacy screen is not yet confirmed; others cannot use it yet"
                    ),
                )
            return allow(_("unconditionally open data"), "audit-access")
        if openness == "conditional":
            return deny(
                _("conditionally open data needs an approved request and a contract"),
            )
        return deny(_("closed data cannot be used"))
    if action == "dataset.request":
        return _requestable(actor, resource, ctx)
    return deny(_("datasets do not support {action}", action=action))


# Obligations of ``dataset.profile``: what the caller must withhold from a column profile.
PROFILE_NO_VALUES = "profile-no-values"
PROFILE_WITHHOLD_PERSONAL = "profile-withhold-personal"


def _profile(actor: Actor, resource: Resource) -> Decision:
    """Who sees the values in a version's column profile (min, max, mean, frequent values).
    Everyone who may see the dataset sees its schema; values only the provider, or anyone
    for the columns the version's confirmed screen found to be neither personal information
    nor an identifier. Regulators and the platform are outsiders here too."""
    if is_member(actor, resource):
        return allow(_("own organisation's dataset: the full profile"))
    if resource.attrs.get("openness") == "closed":
        # Closed data cannot be used by anyone outside its provider, oversight included: its
        # profile says so the same way its preview does, with no value from it.
        return allow(
            _("closed data: the profile shows each column's shape, no values"), PROFILE_NO_VALUES
        )
    if not resource.attrs.get("screen_confirmed"):
        return allow(
            _("this version's privacy screen is not confirmed: the profile shows no values"),
            PROFILE_NO_VALUES,
        )
    return allow(
        _("personal, sensitive and identifier columns show only type, null ratio and length"),
        PROFILE_WITHHOLD_PERSONAL,
    )


def _requestable(actor: Actor, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """Whether this dataset may be named in an access request, by this actor. ``ctx``
    ``order``: the request is a data product's order, whose contract bounds the product's
    use even over open data."""
    if not (actor.has_kind("consumer") or actor.has_kind("operator")):
        return deny(_("only data users and operators request data"))
    if actor.role == "reviewer":
        return deny(_("reviewers do not submit requests"))
    if is_member(actor, resource):
        return deny(_("your own organisation's data needs no request"))
    openness, grade = resource.attrs.get("openness"), resource.attrs.get("grade")
    if openness == "open":
        if ctx.get("order"):
            return allow(_("open data, in the contract of a data product's order"))
        return deny(
            _("open data needs no request: use it directly (the use is still logged)"),
        )
    if openness != "conditional":
        return deny(_("closed data cannot be requested"))
    if grade is None:
        return deny(
            _(
                "the provider has not yet confirmed this dataset's privacy screen; it cannot be requested yet"
            ),
        )
    if grade == "core":
        return deny(_("core data cannot be requested"))
    return allow(_("conditionally open data, requested for a purpose"))


def where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``dataset.view`` as SQL, for listing, search and export: the same rule as ``rule``
    (tests/authorization/test_visible.py checks the two agree for every actor and dataset).
    ``rows.attrs``: ``openness``."""
    if action != "dataset.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.attrs["openness"].in_(("open", "conditional")))
