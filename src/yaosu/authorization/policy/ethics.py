"""Ethics review (科技伦理审查办法（试行）, 2023): which uses of an algorithm need a review, which
need expert re-review as well, and who sets up committees, applies, decides and re-reviews.

Which activities need a review is Art. 2's scope, read for algorithms run on the platform's
data: an activity that uses personal information or takes people as its subjects (Art. 2
(1)), or that may bring ethical risks to public order (Art. 2 (3)) — here, data graded
important or core, uses that act on individuals, and generated or synthesised content. The
list of activities that need expert re-review (the measures' annex, 需要开展专家复核的科技活动
清单) names, for algorithms: models with the capacity to mobilise public opinion and guide
social awareness, and highly autonomous automated decision systems in settings with risks to
safety or health. ``grounds`` and ``re_review_items`` say which apply, with the article, from
the algorithm's filing (type, declared uses and subjects) and the data's screen (personal
information, grade). The job rule (``compute.submit``) refuses a job whose grounds are not
covered by a current approval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

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
from yaosu.kernel.i18n import N_, _, register_labels

GROUND = "ethics_ground"
RE_REVIEW_ITEM = "ethics_re_review_item"

PEOPLE = frozenset({"adults", "minors", "elderly", "patients"})
INDIVIDUAL_USES = frozenset(
    {
        "profiling",
        "credit_scoring",
        "automated_decision",
        "recommendation",
        "individual_pricing",
        "public_opinion",
    }
)
HIGH_GRADES = frozenset({"important", "core"})

GROUNDS = {
    "personal_information": N_(
        "the data holds personal information (Art. 2 (1): activities using personal information)"
    ),
    "human_subjects": N_(
        "the algorithm acts on people (Art. 2 (1): activities with people as their subjects)"
    ),
    "important_data": N_(
        "the data is graded important or core (Art. 2 (3): ethical risks to public order)"
    ),
    "individual_use": N_(
        "the algorithm profiles, scores, recommends to or decides about individuals, or shapes"
        " opinion (Art. 2 (3))"
    ),
    "synthesis": N_("the algorithm generates or synthesises content (Art. 2 (3))"),
}
RE_REVIEW_ITEMS = {
    "public_opinion": N_(
        "an algorithm model with the capacity to mobilise public opinion and guide social"
        " awareness (annex, item 4)"
    ),
    "autonomous_decision": N_(
        "a highly autonomous automated decision system in settings with risks to safety or"
        " health (annex, item 5)"
    ),
}
register_labels(GROUND, GROUNDS)
register_labels(RE_REVIEW_ITEM, RE_REVIEW_ITEMS)


def grounds(
    *,
    algorithm_type: str,
    uses: Iterable[str],
    subjects: Iterable[str],
    data: Iterable[Mapping[str, Any]],
) -> list[str]:
    """Why this algorithm, on this data, needs an ethics review (codes of ``GROUNDS``); empty
    when it needs none. ``data``: one mapping per dataset, with ``personal`` (the screen found
    personal information, or none was confirmed) and ``grade``.

    >>> grounds(algorithm_type="scheduling", uses=["statistics"], subjects=["aggregates"],
    ...         data=[{"personal": False, "grade": "general"}])
    []
    >>> grounds(algorithm_type="push", uses=["recommendation"], subjects=["adults"],
    ...         data=[{"personal": True, "grade": "important"}])
    ['personal_information', 'human_subjects', 'important_data', 'individual_use']
    """
    uses, subjects, data = set(uses), set(subjects), list(data)
    found = []
    if any(d.get("personal", True) for d in data):
        found.append("personal_information")
    if subjects & PEOPLE:
        found.append("human_subjects")
    if any(d.get("grade", "core") in HIGH_GRADES for d in data):
        found.append("important_data")
    if uses & INDIVIDUAL_USES:
        found.append("individual_use")
    if algorithm_type == "generation":
        found.append("synthesis")
    return found


def re_review_items(*, uses: Iterable[str], subjects: Iterable[str]) -> list[str]:
    """The annex's items this algorithm falls under (expert re-review after the committee).

    >>> re_review_items(uses=["automated_decision"], subjects=["patients"])
    ['autonomous_decision']
    >>> re_review_items(uses=["automated_decision"], subjects=["organisations"])
    []
    """
    uses, subjects = set(uses), set(subjects)
    items = []
    if "public_opinion" in uses:
        items.append("public_opinion")
    if "automated_decision" in uses and subjects & PEOPLE:
        items.append("autonomous_decision")
    return items


def required(attrs: Mapping[str, Any], ctx: Mapping[str, Any]) -> Decision | None:
    """The job rule's ethics clause: None when the job may go on, else the refusal. ``attrs``
    carries ``ethics_grounds``; ``ctx`` the ``ethics`` approval covering the job (None when
    there is none). A caller that did not look the approval up is refused (fail closed)."""
    needed = attrs.get("ethics_grounds")
    if needed is None or "ethics" not in ctx:
        return deny(_("the ethics review requirement was not checked"))
    if not needed:
        return None
    approval = ctx["ethics"]
    if approval is None:
        return deny(
            _(
                "this algorithm needs a current ethics approval for this data ({grounds}) and"
                " has none",
                grounds=", ".join(needed),
            )
        )
    return None


# --- who does what -----------------------------------------------------------------------


def committee(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """A committee's ``owner_org_id`` is the organisation that set it up: a unit that does the
    research the measures bind (Art. 4), never a regulator, which oversees. Committees and
    their composition are public to every signed-in user (they are registered publicly)."""
    if action == "ethics.committee.view":
        return allow(_("ethics committees are registered publicly"))
    if action in ("ethics.committee.create", "ethics.committee.update"):
        if actor.has_kind("regulator"):
            return deny(_("regulators oversee ethics review; they do not run committees"))
        if is_member(actor, resource) and actor.role == "admin":
            return allow(_("the organisation's administrator sets up its ethics committee"))
        return deny(_("only the organisation's administrator sets up or changes its committee"))
    return deny(_("ethics committees do not support {action}", action=action))


def review(actor: Actor, action: str, resource: Resource, ctx: Mapping[str, Any]) -> Decision:
    """A review's ``owner_org_id`` is the applicant (the algorithm's provider); ``attrs``:
    ``committee_org`` (whose committee reviews), ``applied_by``. The committee's secretariat
    (its organisation's administrators and reviewers) records meetings and decisions, never
    the person who applied; expert re-review is the competent department's
    (``ctx["department"]``, the platform's setting)."""
    a = resource.attrs
    member = is_member(actor, resource)
    secretariat = (
        actor.org_id is not None
        and actor.org_id == a.get("committee_org")
        and actor.role in ("admin", "reviewer")
        and not actor.has_kind("regulator")  # regulators run no committee
    )
    if action == "ethics.view":
        if member or secretariat or oversees(actor):
            return allow(_("the applicant, the reviewing committee, or oversight"))
        return deny(_("an ethics review is visible to its applicant, its committee and oversight"))
    if action in ("ethics.apply", "ethics.resubmit"):
        if member and actor.role in ("admin", "member"):
            return allow(_("the algorithm's provider applies for its review"))
        return deny(_("only the algorithm provider's members (not reviewers) apply"))
    if action == "ethics.decide":
        if not secretariat:
            return deny(_("only the reviewing committee's administrators and reviewers decide"))
        if a.get("applied_by") == actor.id:
            return deny(_("the person who applied cannot record the committee's decision"))
        return allow(_("the committee's secretariat records its decision"))
    if action == "ethics.re_review":
        if (
            actor.has_kind("regulator")
            and actor.department == ctx.get("department")
            and actor.role in ("admin", "reviewer")
        ):
            return allow(_("the competent department organises expert re-review"))
        return deny(_("only the competent department organises expert re-review"))
    return deny(_("ethics reviews do not support {action}", action=action))


def review_where(actor: Actor, action: str, rows: Rows) -> ColumnElement[bool]:
    """``ethics.view`` as SQL. ``rows.attrs``: ``committee_org`` (a column)."""
    if action != "ethics.view":
        raise no_sql_form(action)
    if oversees(actor):
        return true()
    secretariat = (
        rows.attrs["committee_org"] == actor.org_id
        if actor.org_id is not None and actor.role in ("admin", "reviewer")
        else false()
    )
    return or_(is_member_sql(actor, rows), secretariat)
