"""Ethics review (科技伦理审查办法（试行）, 2023): committees, applications, meetings and votes,
the general, simplified and emergency procedures, expert re-review, and follow-up review.

A committee's composition is checked against Art. 7 when it is set up or changed. The
applicant (an algorithm's provider) applies to its own committee, or to another organisation's
that takes entrusted reviews (委托审查). Which uses need a review, and which need expert
re-review after the committee, is the policy's (``authorization.policy.ethics``), read from
the algorithm's filing and the data's confirmed screens.

The committee's secretariat records each meeting: who was present, who withdrew for a
conflict of interest (回避), and each vote. Quorum: at least five members present, among them
a technical member and an ethics or legal member (the measures' 到会委员不少于5人, 应包括不同类别
的委员). A decision takes more than half of the members present (超过到会委员半数同意); the
four decisions are ordered from approve to reject, and the one taken is the most favourable
that more than half voted for or for something more favourable (an ordinal majority: our
reading where the votes split over more than two choices). The simplified procedure (简易
程序) is for minimal risk, follow-ups and modifications: two or more members the chair
designates, all of whom must approve, or the review goes to a meeting. The emergency
procedure (应急程序) is decided within 72 hours instead of 30 days.

An approval holds until ``valid_until`` (at most 12 months: 跟踪审查间隔一般不超过12个月); the
follow-up review renews it. ``lapse`` ends the approvals whose follow-up is overdue and
suspends the jobs waiting under them; an approved follow-up resumes them.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.authorization.policy.ethics import re_review_items
from yaosu.compute import jobs
from yaosu.compute import service as algorithms
from yaosu.compute.models import EthicsCommittee, EthicsReview
from yaosu.compute.schemas import (
    CommitteeCreate,
    CommitteeUpdate,
    MeetingRecord,
    ReReview,
    Resubmission,
    ReviewApply,
)
from yaosu.compute.states import ReviewState, advance_review
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import InvalidInput, NotFound, NotNow
from yaosu.kernel.i18n import Message, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings

MIN_MEMBERS = 7  # Art. 7: 委员会人数应不少于7人
QUORUM = 5
DECIDE_DAYS = 30
EMERGENCY_HOURS = 72
RE_REVIEW_DAYS = 30
MAX_TERM_YEARS = 5
ORDER = ("approve", "approve_with_changes", "revise", "reject")
APPROVING = frozenset({"approve", "approve_with_changes"})


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day.

    >>> months_after(date(2024, 2, 29), 12), months_after(date(2026, 8, 31), 6)
    (datetime.date(2025, 2, 28), datetime.date(2027, 2, 28))
    """
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- committees -------------------------------------------------------------------------


def composition(members: Iterable[Any]) -> list[Message]:
    """What keeps ``members`` from making a committee (Art. 7): at least seven members, one
    chair, technical, ethics and legal members, a member from outside the organisation, and
    members of both genders. Empty when the composition holds.

    >>> [str(m) for m in composition([])][:2]
    ['a committee has at least 7 members (0 named)', 'a committee has one chair (0 named)']
    """
    members = [m if isinstance(m, dict) else m.model_dump() for m in members]
    problems = []
    if len(members) < MIN_MEMBERS:
        problems.append(
            _(
                "a committee has at least {n} members ({count} named)",
                n=MIN_MEMBERS,
                count=len(members),
            )
        )
    chairs = sum(1 for m in members if m.get("chair"))
    if chairs != 1:
        problems.append(_("a committee has one chair ({count} named)", count=chairs))
    present = {m.get("expertise") for m in members}
    for expertise, message in (
        ("technical", _("a committee needs members with the relevant technical background")),
        ("ethics", _("a committee needs a member with an ethics background")),
        ("legal", _("a committee needs a member with a legal background")),
    ):
        if expertise not in present:
            problems.append(message)
    if not any(m.get("external") for m in members):
        problems.append(_("a committee needs at least one member from outside the organisation"))
    if len({m.get("gender") for m in members}) < 2:
        problems.append(_("a committee's members are of both genders"))
    names = [m.get("name", "").strip() for m in members]
    if len(set(names)) != len(names):
        problems.append(_("each member is named once"))
    return problems


def _check_composition(members: Iterable[Any]) -> None:
    problems = composition(members)
    if problems:
        raise InvalidInput(
            problem=_(
                "the committee's composition does not meet Art. 7: {problems}",
                problems="; ".join(str(p) for p in problems),
            )
        )


def _check_term(ends_on: date, *, today: date) -> None:
    if ends_on <= today or ends_on > months_after(today, 12 * MAX_TERM_YEARS):
        raise InvalidInput(
            problem=_("a committee's term ends within {n} years from today", n=MAX_TERM_YEARS)
        )


def committee_resource(c: EthicsCommittee | None, org_id: str) -> Resource:
    return Resource("ethics_committee", c.id if c else "new", org_id, {})


def create_committee(session: Session, actor: Actor, *, data: CommitteeCreate) -> EthicsCommittee:
    org_id = actor.org_id or ""
    enforce(actor, "ethics.committee.create", committee_resource(None, org_id))
    _check_composition(data.members)
    _check_term(data.term_ends_on, today=utcnow().date())
    committee = EthicsCommittee(
        id=new_id("ethc"),
        org_id=org_id,
        name=data.name.strip(),
        members=[m.model_dump() for m in data.members],
        entrusted=data.entrusted,
        registration=data.registration.strip(),
        term_ends_on=data.term_ends_on,
        created_by=actor.id,
    )
    session.add(committee)
    session.flush()
    record(
        session,
        actor,
        action="ethics.committee.create",
        object_type="ethics_committee",
        object_id=committee.id,
        object_org_id=org_id,
        request=data.model_dump(mode="json"),
    )
    return committee


def update_committee(
    session: Session, actor: Actor, *, committee_id: str, data: CommitteeUpdate
) -> EthicsCommittee:
    committee = get_committee(session, actor, committee_id=committee_id, lock=True)
    enforce(actor, "ethics.committee.update", committee_resource(committee, committee.org_id))
    _check_composition(data.members)
    if data.term_ends_on is not None:
        _check_term(data.term_ends_on, today=utcnow().date())
        committee.term_ends_on = data.term_ends_on
    committee.members = [m.model_dump() for m in data.members]
    if data.entrusted is not None:
        committee.entrusted = data.entrusted
    if data.registration is not None:
        committee.registration = data.registration.strip()
    committee.updated_at = utcnow()
    record(
        session,
        actor,
        action="ethics.committee.update",
        object_type="ethics_committee",
        object_id=committee.id,
        object_org_id=committee.org_id,
        request=data.model_dump(mode="json"),
    )
    return committee


def get_committee(
    session: Session, actor: Actor, *, committee_id: str, lock: bool = False
) -> EthicsCommittee:
    stmt = select(EthicsCommittee).where(EthicsCommittee.id == committee_id)
    committee = session.scalars(locked(stmt) if lock else stmt).first()
    if committee is None:
        raise NotFound(kind=_("Ethics committee"), id=committee_id)
    enforce(actor, "ethics.committee.view", committee_resource(committee, committee.org_id))
    return committee


def list_committees(
    session: Session, actor: Actor, *, org_id: str | None = None
) -> list[EthicsCommittee]:
    """Every active committee (they are registered publicly), or one organisation's."""
    enforce(actor, "ethics.committee.view", committee_resource(None, org_id or ""))
    stmt = select(EthicsCommittee).where(EthicsCommittee.active.is_(True))
    if org_id:
        stmt = stmt.where(EthicsCommittee.org_id == org_id)
    return list(session.scalars(stmt.order_by(EthicsCommittee.created_at)))


# --- reviews --------------------------------------------------------------------------------


def review_resource(review: EthicsReview) -> Resource:
    return Resource(
        "ethics_review",
        review.id,
        review.org_id,
        {"committee_org": review.committee_org_id, "applied_by": review.applied_by},
    )


ROWS = Rows("ethics_review", EthicsReview.org_id, {"committee_org": EthicsReview.committee_org_id})


def _due(procedure: str, now: datetime) -> datetime:
    if procedure == "emergency":
        return now + timedelta(hours=EMERGENCY_HOURS)
    return now + timedelta(days=DECIDE_DAYS)


def apply(session: Session, actor: Actor, *, data: ReviewApply) -> EthicsReview:
    """The algorithm's provider applies for a review: the first one, a follow-up of an
    approval, or the review of a modification (a new version) of an approved algorithm."""
    alg = algorithms.get_algorithm(session, actor, algorithm_id=data.algorithm_id)
    enforce(
        actor,
        "ethics.apply",
        Resource("ethics_review", "new", alg.org_id, {"applied_by": actor.id}),
    )
    committee = session.get(EthicsCommittee, data.committee_id)
    if committee is None or not committee.active:
        raise NotFound(kind=_("Ethics committee"), id=data.committee_id)
    if committee.org_id != alg.org_id and not committee.entrusted:
        raise InvalidInput(
            problem=_(
                "committee {committee} does not review for other organisations (it takes no"
                " entrusted reviews)",
                committee=committee.name,
            )
        )
    previous = None
    if data.kind == "initial":
        if data.previous_id:
            raise InvalidInput(problem=_("a first review follows no earlier approval"))
        datasets, versions = list(data.datasets), [alg.sha256]
    else:
        previous = session.get(EthicsReview, data.previous_id or "")
        if (
            previous is None
            or previous.algorithm_id != alg.id
            or previous.status not in (ReviewState.APPROVED, ReviewState.LAPSED)
        ):
            raise InvalidInput(
                problem=_(
                    "a follow-up or modification review names an approval of this algorithm"
                    " (approved or lapsed): {id}",
                    id=data.previous_id or "—",
                )
            )
        datasets = list(data.datasets or previous.datasets)
        versions = list(previous.versions)
        if data.kind == "modification":
            if alg.sha256 in versions:
                raise InvalidInput(
                    problem=_("the algorithm's current version is already covered: nothing changed")
                )
            versions.append(alg.sha256)
    if not datasets or len(set(datasets)) != len(datasets):
        raise InvalidInput(problem=_("name the datasets the algorithm is to run on, once each"))
    found = jobs.requirement(session, actor, alg, datasets)
    items = re_review_items(uses=alg.uses, subjects=alg.subjects)
    _check_procedure(data, items)
    now = utcnow()
    review = EthicsReview(
        id=new_id("ethr"),
        committee_id=committee.id,
        committee_org_id=committee.org_id,
        org_id=alg.org_id,
        algorithm_id=alg.id,
        versions=versions,
        datasets=datasets,
        kind=data.kind,
        procedure=data.procedure,
        previous_id=previous.id if previous else None,
        grounds=found,
        re_review=items,
        risk=data.risk,
        application=data.application.model_dump(),
        status=ReviewState.SUBMITTED,
        due_at=_due(data.procedure, now),
        applied_by=actor.id,
    )
    session.add(review)
    session.flush()
    record(
        session,
        actor,
        action="ethics.apply",
        object_type="ethics_review",
        object_id=review.id,
        object_org_id=review.org_id,
        request=data.model_dump(mode="json"),
        detail={"grounds": found, "re_review": items, "committee": committee.id},
    )
    return review


def _check_procedure(data: ReviewApply, items: list[str]) -> None:
    if (
        data.procedure == "simplified"
        and data.kind == "initial"
        and (data.risk != "minimal" or items)
    ):
        raise InvalidInput(
            problem=_(
                "the simplified procedure is for minimal risk, follow-ups and minor"
                " modifications, and not for activities that need expert re-review"
            )
        )
    if data.procedure == "emergency" and len(data.application.emergency.strip()) < 10:
        raise InvalidInput(
            problem=_("say why the emergency procedure is needed (at least 10 characters)")
        )


def _locked_review(session: Session, review_id: str) -> EthicsReview:
    review = session.scalars(
        locked(select(EthicsReview).where(EthicsReview.id == review_id)).execution_options(
            populate_existing=True
        )
    ).first()
    if review is None:
        raise NotFound(kind=_("Ethics review"), id=review_id)
    return review


def get_review(session: Session, actor: Actor, *, review_id: str) -> EthicsReview:
    review = session.get(EthicsReview, review_id)
    if review is None:
        raise NotFound(kind=_("Ethics review"), id=review_id)
    enforce(actor, "ethics.view", review_resource(review))
    return review


def list_reviews(
    session: Session,
    actor: Actor,
    *,
    algorithm_id: str | None = None,
    statuses: Iterable[str] = (),
) -> list[EthicsReview]:
    stmt = select(EthicsReview).where(visible(actor, "ethics.view", ROWS))
    if algorithm_id:
        stmt = stmt.where(EthicsReview.algorithm_id == algorithm_id)
    wanted = list(statuses)
    if wanted:
        stmt = stmt.where(EthicsReview.status.in_(wanted))
    return list(session.scalars(stmt.order_by(EthicsReview.created_at.desc()).limit(500)))


def tally(votes: Iterable[str], present: int) -> str | None:
    """The decision more than half of the ``present`` members take: the most favourable of
    ``ORDER`` that more than half voted for or for something more favourable; None when no
    decision has the majority (every vote is counted, so only fewer votes than members present
    leave it open).

    >>> tally(["approve"] * 3 + ["reject"] * 2, 5)
    'approve'
    >>> tally(["approve", "approve", "approve_with_changes", "reject", "reject"], 5)
    'approve_with_changes'
    >>> tally(["approve", "approve", "revise", "reject", "reject", "reject"], 6)
    'reject'
    """
    counts, running = Counter(votes), 0
    for choice in ORDER:
        running += counts[choice]
        if running * 2 > present:
            return choice
    return None


def decide(
    session: Session,
    actor: Actor,
    *,
    review_id: str,
    data: MeetingRecord,
    settings: Settings,
) -> EthicsReview:
    """The committee's secretariat records the meeting (or the simplified reviewers'
    opinions) and the decision it comes to."""
    review = _locked_review(session, review_id)
    enforce(actor, "ethics.view", review_resource(review))
    enforce(actor, "ethics.decide", review_resource(review))
    if review.status != ReviewState.SUBMITTED:
        raise NotNow(
            what=_("Ethics review"), id=review.id, why=_("the review is not waiting for a decision")
        )
    committee = session.get(EthicsCommittee, review.committee_id)
    assert committee is not None
    members = committee.members
    present, recused = list(data.present), set(data.recused)
    if any(i < 0 or i >= len(members) for i in [*present, *recused, *data.votes]):
        raise InvalidInput(
            problem=_(
                "members are named by their place in the committee's list, 0 to {last}",
                last=len(members) - 1,
            )
        )
    if len(set(present)) != len(present) or not recused <= set(present):
        raise InvalidInput(
            problem=_("name each member present once; a member who withdrew was present")
        )
    if data.held_on > utcnow().date():
        raise InvalidInput(problem=_("the meeting cannot be held in the future"))
    voting = [i for i in present if i not in recused]
    if set(data.votes) != set(voting):
        raise InvalidInput(
            problem=_("record one vote for each member present who did not withdraw, and no other")
        )
    votes = [data.votes[i] for i in voting]
    meeting = {
        "procedure": review.procedure,
        "held_on": data.held_on.isoformat(),
        "present": present,
        "recused": sorted(recused),
        "votes": {str(i): data.votes[i] for i in voting},
        "minutes": data.minutes,
        "recorded_by": actor.id,
    }
    if review.procedure == "simplified":
        if len(voting) < 2:
            raise InvalidInput(problem=_("the simplified procedure takes at least two members"))
        if not set(votes) <= APPROVING:
            # any objection or doubt: the review goes to a meeting (简易程序转一般程序)
            review.procedure = "general"
            review.meeting = dict(meeting, converted=True)
            _audit_decision(session, actor, review, decision="to_meeting", meeting=meeting)
            return review
        decision = "approve_with_changes" if "approve_with_changes" in votes else "approve"
    else:
        _check_quorum(members, voting)
        found = tally(votes, len(voting))
        if found is None:  # unreachable with one vote each; kept as a guard
            raise InvalidInput(problem=_("no decision has the majority of the members present"))
        decision = found
    review.meeting = meeting
    review.decision = decision
    review.conditions = data.conditions.strip()
    if decision == "approve_with_changes" and not review.conditions:
        raise InvalidInput(problem=_("an approval with changes says which changes"))
    review.follow_up_months = data.follow_up_months
    review.decided_by, review.decided_at = actor.id, utcnow()
    if decision in APPROVING:
        if review.re_review:
            advance_review(review, ReviewState.RE_REVIEW)
            review.due_at = utcnow() + timedelta(days=RE_REVIEW_DAYS)
        else:
            _approve(session, actor, review)
    elif decision == "revise":
        advance_review(review, ReviewState.REVISE)
    else:
        advance_review(review, ReviewState.REJECTED)
        review.ended_at = utcnow()
        _revoke_previous(session, actor, review)
    _audit_decision(session, actor, review, decision=decision, meeting=meeting)
    return review


def _check_quorum(members: list[dict[str, Any]], voting: list[int]) -> None:
    kinds = {members[i].get("expertise") for i in voting}
    if len(voting) < QUORUM or "technical" not in kinds or not kinds & {"ethics", "legal"}:
        raise InvalidInput(
            problem=_(
                "no quorum: at least {n} members present who did not withdraw, among them a"
                " technical member and an ethics or legal member",
                n=QUORUM,
            )
        )


def _audit_decision(
    session: Session, actor: Actor, review: EthicsReview, *, decision: str, meeting: dict[str, Any]
) -> None:
    record(
        session,
        actor,
        action="ethics.decide",
        object_type="ethics_review",
        object_id=review.id,
        object_org_id=review.org_id,
        detail={
            "decision": decision,  # the committee's, not an access refused
            "procedure": review.procedure,
            "status": review.status,
            "votes": Counter(meeting["votes"].values()),
            "present": len(meeting["present"]),
            "recused": len(meeting["recused"]),
        },
    )


def _approve(session: Session, actor: Actor, review: EthicsReview) -> None:
    """The approval takes effect: valid until its follow-up, replacing the approval it follows
    (whose waiting jobs move under it, suspended ones resuming)."""
    advance_review(review, ReviewState.APPROVED)
    decided = (review.decided_at or utcnow()).date()
    review.valid_until = months_after(decided, review.follow_up_months)
    if review.previous_id is None:
        return
    previous = _locked_review(session, review.previous_id)
    if previous.status == ReviewState.APPROVED:
        advance_review(previous, ReviewState.SUPERSEDED)
        previous.ended_at = utcnow()
    jobs.move_under(session, actor, old=previous.id, new=review.id)


def _revoke_previous(session: Session, actor: Actor, review: EthicsReview) -> None:
    """A follow-up that does not approve again ends the approval it followed; the jobs waiting
    under it fail with that reason."""
    if review.kind != "follow_up" or review.previous_id is None:
        return
    previous = _locked_review(session, review.previous_id)
    if previous.status == ReviewState.APPROVED:
        advance_review(previous, ReviewState.REVOKED)
        previous.ended_at = utcnow()
    jobs.end_under(
        session,
        actor,
        review_id=previous.id,
        reason=_("the follow-up ethics review did not approve the algorithm again"),
    )


def re_review(
    session: Session, actor: Actor, *, review_id: str, data: ReReview, settings: Settings
) -> EthicsReview:
    """Expert re-review (专家复核) by the competent department of what the committee approved."""
    review = _locked_review(session, review_id)
    ctx = {"department": settings.ethics_re_review_department}
    enforce(actor, "ethics.view", review_resource(review))
    enforce(actor, "ethics.re_review", review_resource(review), ctx)
    if review.status != ReviewState.RE_REVIEW:
        raise NotNow(
            what=_("Ethics review"), id=review.id, why=_("the review is not waiting for re-review")
        )
    review.re_reviewed_by, review.re_reviewed_at = actor.id, utcnow()
    review.re_review_reason = data.reason.strip()
    if data.decision == "approve":
        review.decided_at = review.re_reviewed_at  # the approval runs from the re-review
        _approve(session, actor, review)
    else:
        advance_review(review, ReviewState.REJECTED)
        review.ended_at = utcnow()
        _revoke_previous(session, actor, review)
    record(
        session,
        actor,
        action="ethics.re_review",
        object_type="ethics_review",
        object_id=review.id,
        object_org_id=review.org_id,
        reason=review.re_review_reason,
        detail={"decision": data.decision, "items": review.re_review},
    )
    return review


def resubmit(session: Session, actor: Actor, *, review_id: str, data: Resubmission) -> EthicsReview:
    """The applicant revises its materials after 修改后再审 and submits them again."""
    review = _locked_review(session, review_id)
    enforce(actor, "ethics.view", review_resource(review))
    enforce(actor, "ethics.resubmit", review_resource(review))
    if review.status != ReviewState.REVISE:
        raise NotNow(
            what=_("Ethics review"), id=review.id, why=_("the review was not returned for revision")
        )
    advance_review(review, ReviewState.SUBMITTED)
    review.application = data.application.model_dump()
    review.due_at = _due(review.procedure, utcnow())
    review.decision, review.decided_by, review.decided_at = None, None, None
    record(
        session,
        actor,
        action="ethics.resubmit",
        object_type="ethics_review",
        object_id=review.id,
        object_org_id=review.org_id,
        request=data.model_dump(mode="json"),
    )
    return review


def lapse(session: Session, actor: Actor, *, today: date | None = None) -> list[str]:
    """Ends the approvals whose follow-up review is overdue; the jobs waiting under them are
    suspended until an approved follow-up resumes them. Returns the approvals ended."""
    today = today or utcnow().date()
    overdue = session.scalars(
        locked(
            select(EthicsReview).where(
                EthicsReview.status == ReviewState.APPROVED, EthicsReview.valid_until < today
            )
        )
    ).all()
    for review in overdue:
        advance_review(review, ReviewState.LAPSED)
        review.ended_at = utcnow()
        suspended = jobs.suspend_under(session, actor, review_id=review.id)
        record(
            session,
            actor,
            action="ethics.lapse",
            object_type="ethics_review",
            object_id=review.id,
            object_org_id=review.org_id,
            reason=_(
                "no follow-up review by {day}",
                day=review.valid_until.isoformat() if review.valid_until else "—",
            ),
            detail={"suspended": suspended},
        )
    return [r.id for r in overdue]


def waiting(
    session: Session,
    actor: Actor,
    *,
    statuses: Iterable[str],
    follow_up_by: date | None,
) -> list[EthicsReview]:
    """The actor's visible reviews in ``statuses``, and (with ``follow_up_by``) its own
    organisation's approvals whose follow-up falls due by then: the inbox's one query."""
    wanted = or_(
        EthicsReview.status.in_(list(statuses)),
        and_(
            EthicsReview.status == ReviewState.APPROVED,
            EthicsReview.org_id == actor.org_id,
            EthicsReview.valid_until <= follow_up_by,
        )
        if follow_up_by is not None and actor.org_id is not None
        else false(),
    )
    return list(
        session.scalars(
            select(EthicsReview)
            .where(visible(actor, "ethics.view", ROWS), wanted)
            .order_by(EthicsReview.created_at)
            .limit(500)
        )
    )


def follow_ups_due(
    session: Session, actor: Actor, *, within_days: int = 30, today: date | None = None
) -> list[EthicsReview]:
    """The actor's visible approvals whose follow-up falls due within ``within_days``."""
    today = today or utcnow().date()
    return list(
        session.scalars(
            select(EthicsReview)
            .where(
                visible(actor, "ethics.view", ROWS),
                EthicsReview.status == ReviewState.APPROVED,
                EthicsReview.valid_until <= today + timedelta(days=within_days),
            )
            .order_by(EthicsReview.valid_until)
        )
    )
