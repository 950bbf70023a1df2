"""Rules for filed algorithms, providers' trusted lists and compute-to-data jobs.

An algorithm's ``owner_org_id`` is its provider (算法服务提供者); ``attrs``: ``status`` (its
filing's state), ``uses`` and ``subjects`` (what it declares it does, and to whom). A filed
algorithm's public text is public (算法备案 公示); the rest of a filing is its provider's and
oversight's. The filing department (网信) decides filings. Red lines come first: filing an
algorithm, or submitting a job, that crosses one is refused whoever asks.

A job's ``owner_org_id`` is the consumer that runs it; ``attrs``: ``created_by``,
``providers`` (the organisations whose data it reads) and ``status``. A trusted-list entry's
``owner_org_id`` is the dataset's holder, the one who approves what may run on it.

A job to submit also carries ``ethics_grounds`` (why its algorithm on its data needs an
ethics review, ``policy.ethics.grounds``) and the context the ``ethics`` approval covering it:
a job that needs one and has none is refused, and so is a caller that did not look.
"""

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
from yaosu.authorization.policy.ethics import required as ethics_required
from yaosu.authorization.policy.redlines import crossed
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import _

FILING_DEPARTMENT = "网信"
PUBLIC = ("filed", "deregistered")


def _red_line(ctx: Mapping[str, Any], attrs: Mapping[str, Any]) -> Decision | None:
    register = ctx.get("red_lines")
    if register is None:  # fail closed: a caller that forgets the register is refused
        return deny(_("the red-line register was not consulted"))
    hits = crossed(
        register,
        uses=attrs.get("uses", ()),
        subjects=attrs.get("subjects", ()),
        purpose=ctx.get("purpose"),
    )
    if hits:
        return deny(
            _(
                "crosses the red line {code}: {title} — no purpose, review or contract can "
                "authorise it",
                code=hits[0]["code"],
                title=hits[0]["title"],
            )
        )
    return None


def _is_filer(actor: Actor) -> bool:
    return actor.has_kind("regulator") and actor.department == FILING_DEPARTMENT


def algorithm(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    a = resource.attrs
    member = is_member(actor, resource)
    if action == "algorithm.view":
        if a.get("status") in PUBLIC:
            return allow(_("a filed algorithm's public text is public"))
        if member or oversees(actor):
            return allow(_("the algorithm's provider, or oversight"))
        return deny(_("an algorithm is visible to its provider and oversight until it is filed"))
    if action in ("algorithm.file", "algorithm.change"):
        refused = _red_line(ctx, a)
        if refused is not None:
            return refused
        if member and actor.role in ("admin", "member"):
            return allow(_("the provider's members file its algorithms"))
        return deny(_("only the provider's members (not reviewers) file its algorithms"))
    if action == "algorithm.deregister":
        if member and actor.role == "admin":
            return allow(_("the provider's administrator deregisters its algorithm"))
        return deny(_("only the provider's administrator deregisters its algorithm"))
    if action == "algorithm.decide":
        if _is_filer(actor) and actor.role in ("admin", "reviewer"):
            return allow(_("the filing department (网信) decides filings"))
        return deny(_("only the filing department (网信) decides algorithm filings"))
    return deny(_("algorithms do not support {action}", action=action))


def algorithm_where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``algorithm.view`` as SQL. ``rows.attrs``: ``status``."""
    if action != "algorithm.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(rows.attrs["status"].in_(PUBLIC), is_member_sql(actor, rows))


def trusted(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    if action in ("algorithm.trust", "algorithm.distrust"):
        if is_member(actor, resource) and actor.role in ("admin", "reviewer"):
            return allow(_("the dataset's holder decides which algorithms run on it"))
        return deny(
            _("only the dataset holder's administrators and reviewers approve algorithms for it")
        )
    if action == "algorithm.trusted":
        if is_member(actor, resource) or oversees(actor):
            return allow(_("the dataset's holder, or oversight"))
        return deny(_("a trusted list is visible to the dataset's holder and oversight"))
    return deny(_("trusted lists do not support {action}", action=action))


def job(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    a = resource.attrs
    member = is_member(actor, resource)
    provider = actor.org_id is not None and actor.org_id in a.get("providers", ())
    if action == "compute.view":
        if member or provider or oversees(actor):
            return allow(_("the consumer, the data's providers, or oversight"))
        return deny(_("a job is visible to its consumer, the data's providers and oversight"))
    if action == "compute.submit":
        refused = _red_line(ctx, a) or ethics_required(a, ctx)
        if refused is not None:
            return refused
        if member and actor.role in ("admin", "member"):
            return allow(_("the contract's consumer runs jobs under it"))
        return deny(_("only the consumer's members (not reviewers) submit jobs"))
    if action == "compute.cancel":
        if a.get("created_by") == actor.id or (member and actor.role == "admin"):
            return allow(_("the submitter or the consumer's administrator cancels"))
        return deny(_("only the submitter or the consumer's administrator cancels a job"))
    if action in ("compute.approve", "compute.review"):
        if provider and actor.role in ("admin", "reviewer"):
            return allow(_("the data's provider approves and reviews what runs on it"))
        return deny(_("only the data provider's administrators and reviewers decide"))
    if action == "compute.download":
        if member:
            return allow(_("the consumer downloads its released outputs"))
        return deny(_("only the consumer downloads a job's outputs"))
    return deny(_("compute jobs do not support {action}", action=action))


def job_where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``compute.view`` as SQL. ``rows.attrs``: ``providers`` (a function of an org id)."""
    if action != "compute.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    return or_(is_member_sql(actor, rows), rows.holds("providers", actor.org_id))
