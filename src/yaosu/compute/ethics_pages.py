"""Console pages of ethics review (科技伦理审查办法（试行）): the register of ethics committees, a
committee's page and the form that sets one up or changes it (with the Art. 7 composition
check shown before anything is saved), the reviews a reader may see, an algorithm's ethics
page (its approvals, what the policy requires for the chosen data, and the application form),
and a review's page with the meeting record and the secretariat's, the competent department's
and the applicant's forms.

The same service functions as the API (``compute.ethics``) decide; these pages only show and
ask. Each form asks the policy before it reads what was typed, so a refusal is the refusal
whatever the form holds; a form that fails comes back as its page, with the problem and what
was typed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, TypeVar, get_args

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from yaosu.accounts import service as accounts
from yaosu.authorization.policy import Resource, decide, enforce
from yaosu.authorization.policy.ethics import re_review_items
from yaosu.catalog import service as catalog
from yaosu.compute import ethics, forms, jobs, service
from yaosu.compute.models import Algorithm, EthicsCommittee, EthicsReview
from yaosu.compute.schemas import (
    CommitteeCreate,
    CommitteeUpdate,
    Expertise,
    MeetingRecord,
    Member,
    ReReview,
    Resubmission,
    ReviewApply,
    Vote,
)
from yaosu.compute.states import ReviewState
from yaosu.console import steps
from yaosu.console.render import done, render
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, YaosuError
from yaosu.kernel.i18n import N_, Message, _, localise
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)

COMMITTEES = "/ethics/committees"
REVIEWS = "/ethics/reviews"
EXPERTISE = get_args(Expertise)
VOTES = get_args(Vote)
GENDERS = ("female", "male")
KINDS = ("initial", "follow_up", "modification")
PROCEDURES = ("general", "simplified", "emergency")
RISKS = ("minimal", "above_minimal")
TEXTS = ("plan", "risks", "measures", "personal_information", "emergency")
WAITING = (ReviewState.SUBMITTED, ReviewState.RE_REVIEW, ReviewState.REVISE)
PREVIOUS = (ReviewState.APPROVED, ReviewState.LAPSED)  # what a follow-up or modification follows
MAX_MEMBERS = 60  # as CommitteeCreate allows
BLANK_ROWS = 7  # Art. 7's smallest committee: the new form starts with as many rows
SPARE_ROWS = 2  # empty rows after the named members, to add one
MAX_DATASETS = 20

steps.STEPS.update(
    {
        "ethics_committee.created": steps.Step(
            N_("The ethics committee is set up and registered."),
            steps.Next(
                N_(
                    "Its organisation's algorithms can now apply to it; register it on the national platform too and note the number here."
                )
            ),
        ),
        "ethics_committee.changed": steps.Step(
            N_("The committee's change is saved."),
            steps.Next(N_("Reviews already applied for keep the members they were applied with.")),
        ),
        "ethics.applied": steps.Step(
            N_("The application for ethics review is submitted."),
            steps.Next(
                N_(
                    "The committee's secretariat records the meeting and the decision on this page, by the date shown."
                )
            ),
        ),
        "ethics.decided": steps.Step(
            N_("The meeting and the committee's decision are recorded."),
            steps.Next(
                N_(
                    "The applicant reads the decision below; an approval that needs expert re-review waits for the competent department."
                )
            ),
        ),
        "ethics.re_reviewed": steps.Step(
            N_("The expert re-review is recorded."),
            steps.Next(N_("An approval takes effect now; a refusal ends the review.")),
        ),
        "ethics.resubmitted": steps.Step(
            N_("The revised application is submitted again."),
            steps.Next(N_("The committee reviews it again and records its decision here.")),
        ),
    }
)

# The forms' fields as the pages name them, for the problems pydantic finds (its own
# sentences are English).
FIELDS = {
    "name": N_("Name"),
    "datasets": N_("Datasets"),
    "reason": N_("Reason"),
    "expertise": N_("Expertise"),
    "gender": N_("Gender"),
    "affiliation": N_("Affiliation"),
    "registration": N_("Registration number"),
    "term_ends_on": N_("Term ends on"),
    "committee_id": N_("Committee"),
    "kind": N_("Kind of review"),
    "previous_id": N_("The approval it follows"),
    "procedure": N_("Procedure"),
    "risk": N_("Risk"),
    "application.plan": N_("Plan of the activity"),
    "application.risks": N_("Ethical risks"),
    "application.measures": N_("Measures against the risks"),
    "application.personal_information": N_("Protection of personal information"),
    "application.emergency": N_("Why the emergency procedure"),
    "held_on": N_("Held on"),
    "present": N_("Members present"),
    "votes": N_("Votes"),
    "conditions": N_("Conditions or changes required"),
    "follow_up_months": N_("Follow-up review after (months)"),
    "minutes": N_("Minutes"),
    "decision": N_("Decision"),
}


Model = TypeVar("Model", bound=BaseModel)


def _validated(model: type[Model], doc: Mapping[str, Any]) -> Model:
    return forms.validated(model, doc, FIELDS)


def _new_resource(actor: Actor) -> Resource:
    return ethics.committee_resource(None, actor.org_id or "")


def _applying(actor: Actor, alg: Algorithm) -> Resource:
    """What ``ethics.apply`` is asked about: a new review of the algorithm by the actor."""
    return Resource("ethics_review", "new", alg.org_id, {"applied_by": actor.id})


def _validated_members(model: type[Any], doc: Mapping[str, Any]) -> Any:
    """``_validated``, with a member's problem naming the member by its row (from 1)."""
    for number, row in enumerate(doc.get("members") or [], 1):
        try:
            _validated(Member, row)
        except InvalidInput as exc:
            raise InvalidInput(
                problem=_("member {n}: {problem}", n=number, problem=exc.detail["problem"])
            ) from None
    return _validated(model, doc)


def _algorithms(session: Session, actor: Actor) -> dict[str, Algorithm]:
    """Every algorithm the reader may see, by id: the public register and its own filings."""
    found = {a.id: a for a in service.public_register(session)}
    found.update({a.id: a for a in service.list_algorithms(session, actor)})
    return found


# --- committees -----------------------------------------------------------------------------


@router.get(COMMITTEES)
def committees_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    """The registered ethics committees (public to every signed-in user, Art. 8): name,
    organisation, members, whether they take entrusted reviews, their term."""
    found = ethics.list_committees(session, actor)
    return render(
        request,
        actor,
        "ethics_committees.html",
        committees=found,
        names=accounts.org_names(session, ids={c.org_id for c in found}),
        can={
            "ethics.committee.create": decide(
                actor, "ethics.committee.create", _new_resource(actor)
            ).allowed
        },
    )


def _blank_member() -> dict[str, Any]:
    return {
        "name": "",
        "expertise": "",
        "gender": "",
        "external": False,
        "affiliation": "",
        "chair": False,
    }


def _rows(members: Iterable[Mapping[str, Any]], *, at_least: int) -> list[dict[str, Any]]:
    """The member rows a form shows: the members, then empty rows to add more."""
    rows = [dict(_blank_member(), **m) for m in members]
    wanted = min(MAX_MEMBERS, max(at_least, len(rows) + SPARE_ROWS))
    return rows + [_blank_member() for _ in range(wanted - len(rows))]


def _members_from(form: Any) -> list[dict[str, Any]]:
    """The member rows of a posted form (``name_0``, ``expertise_0``, … and the ``chair``
    radio naming a row), leaving out rows left empty."""
    chair = str(form.get("chair", ""))
    members = []
    for i in range(MAX_MEMBERS + SPARE_ROWS):
        if form.get(f"name_{i}") is None:
            break
        row = {
            "name": str(form.get(f"name_{i}", "")).strip()[:100],
            "expertise": str(form.get(f"expertise_{i}", ""))[:20],
            "gender": str(form.get(f"gender_{i}", ""))[:10],
            "external": form.get(f"external_{i}") == "yes",
            "affiliation": str(form.get(f"affiliation_{i}", "")).strip()[:200],
            "chair": chair == str(i),
        }
        if row["name"] or row["affiliation"]:
            members.append(row)
    return members


def _committee_values(form: Any) -> dict[str, Any]:
    return {
        "name": str(form.get("name", ""))[:200],
        "members": _members_from(form),
        "entrusted": form.get("entrusted") == "yes",
        "registration": str(form.get("registration", ""))[:100],
        "term_ends_on": str(form.get("term_ends_on", ""))[:10],
    }


def _committee_form(
    request: Request,
    actor: Actor,
    session: Session,
    *,
    committee: EthicsCommittee | None,
    values: Mapping[str, Any],
    problems: list[Message] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The committee page (``committee`` given) or the set-up form, with ``values`` in the
    form and, when asked or refused, the Art. 7 problems of the members typed."""
    lang = locale(request)
    if committee is None:
        allowed = decide(actor, "ethics.committee.create", _new_resource(actor))
    else:
        res = ethics.committee_resource(committee, committee.org_id)
        allowed = decide(actor, "ethics.committee.update", res)
    if not allowed.allowed and error is None and committee is None:
        error = allowed.reason.render(lang)
    stored = ethics.composition(committee.members) if committee is not None else []
    return render(
        request,
        actor,
        "ethics_committee.html",
        status=status,
        committee=committee,
        owner=accounts.org_names(session, ids=[committee.org_id]).get(committee.org_id, "")
        if committee is not None
        else "",
        values=values,
        rows=_rows(values.get("members") or [], at_least=BLANK_ROWS),
        problems=None if problems is None else [localise(p, lang) for p in problems],
        stored_problems=[localise(p, lang) for p in stored],
        expertise=EXPERTISE,
        genders=GENDERS,
        min_members=ethics.MIN_MEMBERS,
        error=error,
        can={"ethics.committee.edit": allowed.allowed},
    )


BLANK_COMMITTEE: dict[str, Any] = {
    "name": "",
    "members": [],
    "entrusted": False,
    "registration": "",
    "term_ends_on": "",
}


@router.get(f"{COMMITTEES}/new")
def new_committee_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    """The form that sets up the organisation's committee: its members as rows."""
    return _committee_form(request, actor, session, committee=None, values=BLANK_COMMITTEE)


def _committee_post(
    request: Request,
    actor: Actor,
    session: Session,
    form: Any,
    committee_id: str | None,
) -> Response:
    """Sets up (``committee_id`` None) or changes a committee from the posted form; "check"
    only shows the Art. 7 problems of the members typed, saving nothing."""
    values = _committee_values(form)
    committee = None
    try:
        if committee_id is None:
            enforce(actor, "ethics.committee.create", _new_resource(actor))
        else:
            committee = ethics.get_committee(session, actor, committee_id=committee_id)
            res = ethics.committee_resource(committee, committee.org_id)
            enforce(actor, "ethics.committee.update", res)
        if form.get("intent") == "check":
            return _committee_form(
                request,
                actor,
                session,
                committee=committee,
                values=values,
                problems=ethics.composition(values["members"]),
            )
        doc = dict(values, term_ends_on=values["term_ends_on"] or None)
        with session.begin_nested():
            if committee is None:
                data = _validated_members(CommitteeCreate, doc)
                made = ethics.create_committee(session, actor, data=data)
            else:
                doc.pop("name")
                data = _validated_members(CommitteeUpdate, doc)
                made = ethics.update_committee(session, actor, committee_id=committee.id, data=data)
    except YaosuError as exc:
        if exc.status == 404:
            raise
        audit_refusal(request, exc, session)
        return _committee_form(
            request,
            actor,
            session,
            committee=committee,
            values=values,
            problems=ethics.composition(values["members"]) if exc.status == 422 else None,
            error=exc.message(locale(request)),
            status=exc.status,
        )
    code = "ethics_committee.created" if committee is None else "ethics_committee.changed"
    return done(f"{COMMITTEES}/{made.id}", code)


FORM_FIELDS = (MAX_MEMBERS + SPARE_ROWS) * 6 + 10  # each row's fields, and the committee's


@router.post(f"{COMMITTEES}/new")
async def create_committee_form(
    request: Request, actor: PageActor, session: SessionDep
) -> Response:
    form = await request.form(max_fields=FORM_FIELDS)
    return await run_in_threadpool(_committee_post, request, actor, session, form, None)


@router.get(COMMITTEES + "/{committee_id}")
def committee_page(
    request: Request, committee_id: str, actor: PageActor, session: SessionDep
) -> Response:
    """A committee: its members and whether they meet Art. 7; its organisation's
    administrator changes it here."""
    committee = ethics.get_committee(session, actor, committee_id=committee_id[:40])
    values = {
        "name": committee.name,
        "members": committee.members,
        "entrusted": committee.entrusted,
        "registration": committee.registration,
        "term_ends_on": committee.term_ends_on.isoformat(),
    }
    return _committee_form(request, actor, session, committee=committee, values=values)


@router.post(COMMITTEES + "/{committee_id}")
async def update_committee_form(
    request: Request, committee_id: str, actor: PageActor, session: SessionDep
) -> Response:
    form = await request.form(max_fields=FORM_FIELDS)
    return await run_in_threadpool(
        _committee_post, request, actor, session, form, committee_id[:40]
    )


# --- reviews -------------------------------------------------------------------------------


@router.get(REVIEWS)
def reviews_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The ethics reviews the reader may see (its own applications, those before its
    organisation's committee; oversight: all), those still waiting first."""
    chosen = status if status in set(ReviewState) else ""
    found = ethics.list_reviews(session, actor, statuses=[chosen] if chosen else ())
    found.sort(key=lambda r: r.status not in WAITING)  # stable: newest first within each
    return render(
        request,
        actor,
        "ethics_reviews.html",
        reviews=found,
        chosen=chosen,
        states=list(ReviewState),
        waiting=WAITING,
        algorithms=_algorithms(session, actor),
        committees={c.id: c for c in ethics.list_committees(session, actor)},
        names=accounts.org_names(session),
    )


# --- an algorithm's ethics page and the application -------------------------------------------


def _datasets_offered(session: Session, actor: Actor, chosen: Iterable[str]) -> dict[str, str]:
    """Datasets the reader may see (id: title), the chosen ones first."""
    seen = catalog.list_datasets(session, actor, limit=100).items
    offered = {d.id: d.title for d in seen}
    titles = catalog.dataset_titles(session, ids=list(chosen))
    return {d: titles.get(d, d) for d in chosen} | offered


BLANK_APPLICATION: dict[str, Any] = {
    "committee": "",
    "datasets": [],
    "kind": "initial",
    "previous": "",
    "procedure": "general",
    "risk": "above_minimal",
    **dict.fromkeys(TEXTS, ""),
}


def _ethics_page(
    request: Request,
    actor: Actor,
    session: Session,
    alg: Algorithm,
    *,
    values: Mapping[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The algorithm's approvals and reviews, what the policy requires for the datasets
    chosen, and the application form (for its provider)."""
    lang = locale(request)
    chosen = list(values.get("datasets") or [])
    reviews = ethics.list_reviews(session, actor, algorithm_id=alg.id)
    needed: list[str] | None = None
    covering = None
    if chosen:
        try:
            needed = jobs.requirement(session, actor, alg, chosen)
            covering = jobs.covering(
                session, algorithm_id=alg.id, sha256=alg.sha256, datasets=chosen
            )
        except YaosuError as exc:
            if exc.status == 404:
                raise
            error = error or exc.message(lang)
    committees = [
        c for c in ethics.list_committees(session, actor) if c.org_id == alg.org_id or c.entrusted
    ]
    may_apply = decide(actor, "ethics.apply", _applying(actor, alg))
    return render(
        request,
        actor,
        "ethics_apply.html",
        status=status,
        alg=alg,
        reviews=reviews,
        approvals=[r for r in reviews if r.status == ReviewState.APPROVED],
        previous=[r for r in reviews if r.status in PREVIOUS],
        committees=committees,
        names=accounts.org_names(session),
        datasets=_datasets_offered(session, actor, chosen),
        titles=catalog.dataset_titles(session, ids={d for r in reviews for d in r.datasets}),
        needed=needed,
        re_review=re_review_items(uses=alg.uses, subjects=alg.subjects),
        covering=covering,
        values=values,
        kinds=KINDS,
        procedures=PROCEDURES,
        risks=RISKS,
        error=error,
        refusal=None if may_apply.allowed else may_apply.reason.render(lang),
        can={"ethics.apply": may_apply.allowed},
    )


def _choice(value: str, allowed: Iterable[str], default: str) -> str:
    return value if value in set(allowed) else default


@router.get("/algorithms/{algorithm_id}/ethics")
def algorithm_ethics_page(
    request: Request,
    algorithm_id: str,
    actor: PageActor,
    session: SessionDep,
    datasets: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[str, Query(max_length=20)] = "",
    previous: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """An algorithm's ethics review: its current approvals and its reviews; with datasets
    chosen, why the policy requires a review for them (and whether expert re-review), and
    whether an approval covers them; the provider's application form."""
    alg = service.get_algorithm(session, actor, algorithm_id=algorithm_id[:40])
    chosen = list(dict.fromkeys(d[:40] for d in datasets or []))[:MAX_DATASETS]
    values = dict(
        BLANK_APPLICATION,
        datasets=chosen,
        kind=_choice(kind, KINDS, "initial"),
        previous=previous,
    )
    return _ethics_page(request, actor, session, alg, values=values)


@router.post("/algorithms/{algorithm_id}/ethics")
def apply_form(
    request: Request,
    algorithm_id: str,
    actor: PageActor,
    session: SessionDep,
    committee: Annotated[str, Form(max_length=40)] = "",
    datasets: Annotated[list[str] | None, Form()] = None,
    kind: Annotated[str, Form(max_length=20)] = "initial",
    previous: Annotated[str, Form(max_length=40)] = "",
    procedure: Annotated[str, Form(max_length=20)] = "general",
    risk: Annotated[str, Form(max_length=20)] = "above_minimal",
    plan: Annotated[str, Form(max_length=20_000)] = "",
    risks: Annotated[str, Form(max_length=20_000)] = "",
    measures: Annotated[str, Form(max_length=20_000)] = "",
    personal_information: Annotated[str, Form(max_length=20_000)] = "",
    emergency: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The provider applies for the review of its algorithm on the datasets chosen."""
    texts = {
        "plan": plan,
        "risks": risks,
        "measures": measures,
        "personal_information": personal_information,
        "emergency": emergency,
    }
    chosen = list(dict.fromkeys(d[:40] for d in datasets or []))[: MAX_DATASETS + 1]
    values = {
        "committee": committee,
        "datasets": chosen,
        "kind": kind,
        "previous": previous,
        "procedure": procedure,
        "risk": risk,
        **texts,
    }
    alg = service.get_algorithm(session, actor, algorithm_id=algorithm_id[:40])
    try:
        enforce(actor, "ethics.apply", _applying(actor, alg))
        body = {
            "committee_id": committee,
            "algorithm_id": alg.id,
            "datasets": chosen,
            "kind": kind,
            "previous_id": previous or None,
            "procedure": procedure,
            "risk": risk,
            "application": texts,
        }
        with session.begin_nested():
            review = ethics.apply(session, actor, data=_validated(ReviewApply, body))
    except YaosuError as exc:
        if exc.status == 404:
            raise
        audit_refusal(request, exc, session)
        return _ethics_page(
            request,
            actor,
            session,
            alg,
            values=values,
            error=exc.message(locale(request)),
            status=exc.status,
        )
    return done(f"{REVIEWS}/{review.id}", "ethics.applied")


# --- a review ------------------------------------------------------------------------------


def _review_rights(actor: Actor, ctx: Context, review: EthicsReview) -> dict[str, bool]:
    """The review page's forms, each when the review's state permits it and ``decide``
    allows it."""
    res = ethics.review_resource(review)
    department = {"department": ctx.settings.ethics_re_review_department}
    new = Resource("ethics_review", "new", review.org_id, {"applied_by": actor.id})
    return {
        "ethics.decide": review.status == ReviewState.SUBMITTED
        and decide(actor, "ethics.decide", res).allowed,
        "ethics.re_review": review.status == ReviewState.RE_REVIEW
        and decide(actor, "ethics.re_review", res, department).allowed,
        "ethics.resubmit": review.status == ReviewState.REVISE
        and decide(actor, "ethics.resubmit", res).allowed,
        "ethics.follow_up": review.status in PREVIOUS
        and decide(actor, "ethics.apply", new).allowed,
    }


def _meeting_shown(review: EthicsReview, members: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The recorded meeting with each member named: who was present, who withdrew, and
    each vote (a member named by a place the list no longer has shows as its number)."""
    meeting = review.meeting or {}
    if not meeting:
        return None

    def named(i: int) -> str:
        return members[i]["name"] if 0 <= i < len(members) else f"#{i + 1}"

    return {
        "held_on": meeting.get("held_on", ""),
        "procedure": meeting.get("procedure", ""),
        "present": [named(int(i)) for i in meeting.get("present", [])],
        "recused": [named(int(i)) for i in meeting.get("recused", [])],
        "votes": [(named(int(i)), v) for i, v in (meeting.get("votes") or {}).items()],
        "minutes": meeting.get("minutes", ""),
        "converted": bool(meeting.get("converted")),
        "recorded_by": meeting.get("recorded_by", ""),
    }


def _review_view(
    request: Request,
    actor: Actor,
    session: Session,
    ctx: Context,
    review: EthicsReview,
    *,
    typed: Mapping[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    committee = ethics.get_committee(session, actor, committee_id=review.committee_id)
    members = list(committee.members)
    meeting = _meeting_shown(review, members)
    people = {review.applied_by, review.decided_by or "", review.re_reviewed_by or ""}
    if meeting:
        people.add(meeting["recorded_by"])
    typed = dict(typed or {})
    application = typed.get("application") or review.application
    return render(
        request,
        actor,
        "ethics_review.html",
        status=status,
        review=review,
        alg=_algorithms(session, actor).get(review.algorithm_id),
        committee=committee,
        members=members,
        meeting=meeting,
        names=accounts.org_names(session, ids={review.org_id, review.committee_org_id}),
        users=accounts.user_names(session, ids=people - {""}),
        titles=catalog.dataset_titles(session, ids=review.datasets),
        typed=typed,
        application=application,
        today=date.today().isoformat(),
        votes=VOTES,
        texts=TEXTS,
        months=range(1, 13),
        error=error,
        can=_review_rights(actor, ctx, review),
    )


@router.get(REVIEWS + "/{review_id}")
def review_page(
    request: Request,
    review_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    """A review: the algorithm and the data, the committee, the procedure and its deadline,
    the grounds and the re-review items, the application, the meeting record and the
    decision, the re-review; and the forms of the secretariat, the department and the
    applicant, each when it may act."""
    review = ethics.get_review(session, actor, review_id=review_id[:40])
    return _review_view(request, actor, session, ctx, review, error=error)


def _refused(
    request: Request,
    actor: Actor,
    session: Session,
    ctx: Context,
    review_id: str,
    exc: YaosuError,
    typed: Mapping[str, Any],
) -> Response:
    """A review form that failed: the review page again, with the problem and what was typed
    (the review as it was: the form's savepoint rolled back)."""
    if exc.status == 404:
        raise exc
    audit_refusal(request, exc, session)
    review = ethics.get_review(session, actor, review_id=review_id)
    session.refresh(review)
    return _review_view(
        request,
        actor,
        session,
        ctx,
        review,
        typed=typed,
        error=exc.message(locale(request)),
        status=exc.status,
    )


def _meeting_from(form: Any, size: int) -> dict[str, Any]:
    """The posted meeting record: ``present_<i>``, ``recused_<i>`` and ``vote_<i>`` per
    member (by its place in the committee's list), and the record's own fields."""
    votes = {}
    for i in range(size):
        vote = str(form.get(f"vote_{i}", ""))[:24]
        if vote:
            votes[i] = vote
    return {
        "held_on": str(form.get("held_on", ""))[:10] or None,
        "present": [i for i in range(size) if form.get(f"present_{i}") == "yes"],
        "recused": [i for i in range(size) if form.get(f"recused_{i}") == "yes"],
        "votes": votes,
        "conditions": str(form.get("conditions", ""))[:4000],
        "follow_up_months": str(form.get("follow_up_months", "12"))[:2],
        "minutes": str(form.get("minutes", ""))[:20_000],
    }


def _meeting_post(
    request: Request, actor: Actor, session: Session, ctx: Context, review_id: str, form: Any
) -> Response:
    review = ethics.get_review(session, actor, review_id=review_id)
    committee = ethics.get_committee(session, actor, committee_id=review.committee_id)
    doc = _meeting_from(form, len(committee.members))
    try:
        enforce(actor, "ethics.decide", ethics.review_resource(review))
        data = _validated(MeetingRecord, doc)
        with session.begin_nested():
            ethics.decide(session, actor, review_id=review.id, data=data, settings=ctx.settings)
    except YaosuError as exc:
        return _refused(request, actor, session, ctx, review.id, exc, {"meeting": doc})
    return done(f"{REVIEWS}/{review.id}", "ethics.decided")


@router.post(REVIEWS + "/{review_id}/meeting")
async def meeting_form(
    request: Request, review_id: str, actor: PageActor, session: SessionDep, ctx: ContextDep
) -> Response:
    """The committee's secretariat records the meeting (who was present, who withdrew, each
    vote) and so the decision."""
    form = await request.form(max_fields=MAX_MEMBERS * 3 + 10)
    return await run_in_threadpool(
        _meeting_post, request, actor, session, ctx, review_id[:40], form
    )


@router.post(REVIEWS + "/{review_id}/re-review")
def re_review_form(
    request: Request,
    review_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    decision: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The competent department's expert re-review of what the committee approved."""
    review = ethics.get_review(session, actor, review_id=review_id[:40])
    typed = {"re_review": {"decision": decision, "reason": reason}}
    try:
        department = {"department": ctx.settings.ethics_re_review_department}
        enforce(actor, "ethics.re_review", ethics.review_resource(review), department)
        data = _validated(ReReview, {"decision": decision, "reason": reason})
        with session.begin_nested():
            ethics.re_review(session, actor, review_id=review.id, data=data, settings=ctx.settings)
    except YaosuError as exc:
        return _refused(request, actor, session, ctx, review.id, exc, typed)
    return done(f"{REVIEWS}/{review.id}", "ethics.re_reviewed")


@router.post(REVIEWS + "/{review_id}/resubmit")
def resubmit_form(
    request: Request,
    review_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    plan: Annotated[str, Form(max_length=20_000)] = "",
    risks: Annotated[str, Form(max_length=20_000)] = "",
    measures: Annotated[str, Form(max_length=20_000)] = "",
    personal_information: Annotated[str, Form(max_length=20_000)] = "",
    emergency: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The applicant submits its revised materials after 修改后再审."""
    review = ethics.get_review(session, actor, review_id=review_id[:40])
    texts = {
        "plan": plan,
        "risks": risks,
        "measures": measures,
        "personal_information": personal_information,
        "emergency": emergency,
    }
    try:
        enforce(actor, "ethics.resubmit", ethics.review_resource(review))
        data = _validated(Resubmission, {"application": texts})
        with session.begin_nested():
            ethics.resubmit(session, actor, review_id=review.id, data=data)
    except YaosuError as exc:
        return _refused(request, actor, session, ctx, review.id, exc, {"application": texts})
    return done(f"{REVIEWS}/{review.id}", "ethics.resubmitted")
