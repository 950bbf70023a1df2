"""Access requests and their reviews by several departments.

A request names datasets, a purpose, operations, fields, a term and a justification. Routing
rules decide who must review it: the provider always; the 网信 regulator when the data holds
personal information; the 数据局 and the industry authority when it is important data; core
data cannot be requested. Every required approval, in any order, makes a contract whose terms
are the request narrowed by every reviewer's conditions; one rejection ends the request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit.service import record
from yaosu.authorization.aliases import choose_aliases
from yaosu.authorization.contracts import contract_from
from yaosu.authorization.models import AccessRequest, Review
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Resource, Rows, enforce, visible
from yaosu.authorization.purposes import active_purpose
from yaosu.authorization.schemas import Conditions, RequestCreate
from yaosu.authorization.states import (
    APPROVALS,
    REQUEST_MOVES,
    REVIEW_MOVES,
    RequestState,
    ReviewState,
)
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import Conflict, InvalidInput, NotFound
from yaosu.kernel.i18n import Message, Sentences, _
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.states import transition
from yaosu.privacy.service import confirmed_screen, reviewers_from

# A review's decision -> the state it leaves the review in.
DECISIONS = {
    "approve": ReviewState.approved,
    "conditional": ReviewState.conditional,
    "reject": ReviewState.rejected,
}
# Which regulator department reviews what (organisations' ``department`` field).
CAC = "网信"
DATA_BUREAU = "数据局"
# A dataset's theme names its industry authority's department unless mapped here.
INDUSTRY = {"社会保障": "人社", "能源": "发展改革", "交通": "交通运输", "医疗卫生": "卫生健康"}


def request_resource(session: Session, *, req: AccessRequest) -> Resource:
    reviewers = list(
        session.scalars(select(Review.reviewer_org_id).where(Review.request_id == req.id))
    )
    return Resource("request", req.id, req.requester_org_id, {"reviewers": reviewers})


def _reviewed_by(org_id: str) -> ColumnElement[bool]:
    return AccessRequest.id.in_(select(Review.request_id).where(Review.reviewer_org_id == org_id))


ROWS = Rows("request", AccessRequest.requester_org_id, {"reviewers": _reviewed_by})  # as SQL


def _screened(session: Session, ds: Any) -> tuple[bool, str | None]:
    """(personal information?, grade) from the confirmed screen of the latest version."""
    screen = (
        confirmed_screen(session, dataset_id=ds.id, version=ds.latest_version)
        if ds.latest_version
        else None
    )
    if screen is None:
        return False, None
    return screen.personal, screen.grade


def submit_request(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    data: RequestCreate,
    order_id: str | None = None,
) -> AccessRequest:
    """Files a request and routes its reviews. ``order_id``: the request is a data product's
    order (market), which may name open data too."""
    purpose = active_purpose(session, code=data.purpose)
    if Operation.compute in data.operations and not (data.algorithm or "").strip():
        raise InvalidInput(problem=_("compute-to-data needs the algorithm named"))
    if data.models and Operation.compute not in data.operations:
        raise InvalidInput(problem=_("only compute-to-data can release a trained model"))
    if data.days > settings.max_contract_days:
        raise InvalidInput(
            problem=_(
                "the term may not exceed {max_contract_days} days",
                max_contract_days=settings.max_contract_days,
            )
        )
    routes: dict[str, list[str]] = {}  # reviewer org id -> the rules that require it

    def route(org_id: str, rule: str) -> None:
        rules = routes.setdefault(org_id, [])
        if rule not in rules:
            rules.append(rule)

    titles: dict[str, str] = {}
    for dataset_id, fields in data.datasets.items():
        ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
        titles[dataset_id] = ds.title
        personal, grade = _screened(session, ds)
        enforce(
            actor,
            "dataset.request",
            catalog.resource(ds) if grade is None else _with_grade(catalog.resource(ds), grade),
            {"order": order_id},
        )
        version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
        known = {c["name"] for c in version.columns}
        unknown = [f for f in fields if f not in known]
        if not fields or unknown:
            raise InvalidInput(
                problem=_(
                    "choose fields of dataset {id}; unknown: {unknown}",
                    id=ds.id,
                    unknown=unknown or _("(none chosen)"),
                )
            )
        route(ds.owner_org_id, "provider")
        if personal:
            cac = accounts.regulator_ids(session, department=CAC)
            if not cac:
                raise InvalidInput(problem=_no_regulator(CAC))
            for org_id in cac:
                route(org_id, "personal")
        if grade == "important":
            bureau = accounts.regulator_ids(session, department=DATA_BUREAU)
            industry = accounts.regulator_ids(session, department=INDUSTRY.get(ds.theme, ds.theme))
            if not bureau:
                raise InvalidInput(problem=_no_regulator(DATA_BUREAU))
            if not industry:
                raise InvalidInput(problem=_no_regulator(INDUSTRY.get(ds.theme, ds.theme)))
            for org_id in bureau:
                route(org_id, "important")
            for org_id in industry:
                route(org_id, "industry")
    aliases = choose_aliases(titles, chosen=data.aliases)  # checked before anything is written
    due = utcnow() + timedelta(days=settings.review_days)
    req = AccessRequest(
        id=new_id("req"),
        requester_org_id=actor.org_id,
        requested_by=actor.id,
        purpose=purpose.code,
        datasets={k: list(dict.fromkeys(v)) for k, v in data.datasets.items()},
        aliases=aliases,
        operations=list(dict.fromkeys(data.operations)),
        algorithm=(data.algorithm or "").strip() or None,
        models=data.models,
        days=data.days,
        max_uses=data.max_uses,
        epsilon=data.epsilon,
        justification=data.justification.strip(),
        territory=data.territory,
        status=RequestState.submitted,
        pricing=purpose.pricing,
        due_at=due,
    )
    session.add(req)
    session.flush()
    for org_id, rules in routes.items():
        session.add(
            Review(
                id=new_id("rvw"),
                request_id=req.id,
                reviewer_org_id=org_id,
                rule="+".join(rules),
                status=ReviewState.pending,
                conditions={},
                due_at=due,
            )
        )
    session.flush()
    record(
        session,
        actor,
        action="request.submit",
        object_type="request",
        object_id=req.id,
        object_org_id=actor.org_id,
        request=data.model_dump(),
        detail={
            "reviewers": routes,
            "pricing": purpose.pricing,
            "aliases": aliases,
            **({"order_id": order_id} if order_id else {}),
        },
    )
    return req


def listing_reviewers(
    session: Session, *, provider_org_ids: list[str], personal: bool, public_data: bool
) -> dict[str, list[str]]:
    """Who reviews a data product's listing, by the routing rules of access requests: each
    source's provider; the 数据局 for public data; the 网信 office when a source holds
    personal information. Reviewer org id -> the rules that require it."""
    routes: dict[str, list[str]] = {}
    for org_id in provider_org_ids:
        routes.setdefault(org_id, ["provider"])
    for needed, department, rule in (
        (public_data, DATA_BUREAU, "public"),
        (personal, CAC, "personal"),
    ):
        if not needed:
            continue
        regulators = accounts.regulator_ids(session, department=department)
        if not regulators:
            raise InvalidInput(problem=_no_regulator(department))
        for org_id in regulators:
            rules = routes.setdefault(org_id, [])
            if rule not in rules:
                rules.append(rule)
    return routes


def _with_grade(resource: Resource, grade: str) -> Resource:
    return Resource(
        resource.type, resource.id, resource.owner_org_id, {**resource.attrs, "grade": grade}
    )


def _no_regulator(department: str) -> Message:
    return _(
        "no {department} regulator is registered on the platform, so the request cannot be routed for review",
        department=department,
    )


def get_request(session: Session, actor: Actor, *, request_id: str) -> AccessRequest:
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise NotFound(kind=_("Access request"), id=request_id)
    enforce(actor, "request.view", request_resource(session, req=req))
    _expire_if_due(session, req)
    return req


@reviewers_from  # privacy shows them the dataset's screens (privacy sits below, so it is told)
def reviewing_orgs(session: Session, *, dataset_id: str) -> list[str]:
    """Organisations with a pending review of a submitted request that names the dataset:
    they may read what they must judge (its screen report)."""
    rows = session.execute(
        select(Review.reviewer_org_id, AccessRequest.datasets)
        .join(AccessRequest, AccessRequest.id == Review.request_id)
        .where(Review.status == ReviewState.pending, AccessRequest.status == RequestState.submitted)
    )
    return sorted({org for org, datasets in rows if dataset_id in (datasets or {})})


def reviews_of(session: Session, *, request_id: str) -> list[Review]:
    return list(
        session.scalars(select(Review).where(Review.request_id == request_id).order_by(Review.id))
    )


def count_requests(session: Session) -> int:
    """How many requests were ever submitted (no decision: a number, not a listing)."""
    return session.scalar(select(func.count()).select_from(AccessRequest)) or 0


def list_requests(
    session: Session, actor: Actor, *, inbox: bool = False, status: RequestState | None = None
) -> list[AccessRequest]:
    """The requests the actor may see (``request.view``), or (``inbox``) those its
    organisation must review."""
    stmt = (
        select(AccessRequest)
        .where(visible(actor, "request.view", ROWS))
        .order_by(AccessRequest.created_at.desc())
        .limit(200)
    )
    if inbox:
        stmt = stmt.where(
            AccessRequest.id.in_(
                select(Review.request_id).where(
                    Review.reviewer_org_id == actor.org_id, Review.status == ReviewState.pending
                )
            ),
            AccessRequest.status == RequestState.submitted,
        )
    if status:
        stmt = stmt.where(AccessRequest.status == status)
    found = []
    for req in session.scalars(stmt):
        _expire_if_due(session, req)
        if not (inbox and req.status != RequestState.submitted):
            found.append(req)
    return found


def _expire_if_due(session: Session, req: AccessRequest) -> None:
    """A request whose reviews are overdue ends as expired (its own clock, read lazily)."""
    if req.status != RequestState.submitted or utcnow() < req.due_at:
        return
    req.status = _move(req, RequestState.expired)
    req.decided_at = utcnow()
    _void_pending(session, req)
    record(
        session,
        system_actor(),
        action="request.expire",
        object_type="request",
        object_id=req.id,
        object_org_id=req.requester_org_id,
        detail={"due_at": req.due_at.isoformat()},
    )


def _move(req: AccessRequest, target: RequestState) -> RequestState:
    return transition(REQUEST_MOVES, req.status, target, what=_("Access request"), id=req.id)


def _void_pending(session: Session, req: AccessRequest) -> None:
    """The request ended: the reviews still pending will never be made."""
    for review in reviews_of(session, request_id=req.id):
        if review.status == ReviewState.pending:
            review.status = transition(
                REVIEW_MOVES, review.status, ReviewState.void, what=_("Review"), id=review.id
            )


def withdraw(session: Session, actor: Actor, *, request_id: str) -> AccessRequest:
    req = get_request(session, actor, request_id=request_id)
    enforce(actor, "request.withdraw", request_resource(session, req=req))
    req.status, req.decided_at = _move(req, RequestState.withdrawn), utcnow()
    _void_pending(session, req)
    record(
        session,
        actor,
        action="request.withdraw",
        object_type="request",
        object_id=req.id,
        object_org_id=req.requester_org_id,
    )
    return req


def review(
    session: Session,
    actor: Actor,
    *,
    settings: Settings,
    request_id: str,
    decision: str,
    reason: str,
    conditions: Conditions | None = None,
) -> AccessRequest:
    """The actor's organisation approves, approves with conditions, or rejects."""
    req = get_request(session, actor, request_id=request_id)
    enforce(actor, "request.review", request_resource(session, req=req))
    if req.status != RequestState.submitted:
        raise Conflict(what=_("Request already ended ({status})", status=req.status), value=req.id)
    # two reviewers at once: one at a time
    session.execute(locked(select(AccessRequest.id).where(AccessRequest.id == req.id)))
    mine = next(
        (r for r in reviews_of(session, request_id=req.id) if r.reviewer_org_id == actor.org_id),
        None,
    )
    if mine is None:
        raise Conflict(what=_("Your organisation's review"), value=req.id)
    decided = transition(
        REVIEW_MOVES, mine.status, DECISIONS[decision], what=_("Review"), id=mine.id
    )
    if not reason.strip():
        raise InvalidInput(problem=_("a review needs a reason"))
    narrowed = _check_conditions(req, conditions) if decision == "conditional" else {}
    if decision == "conditional" and not narrowed:
        raise InvalidInput(problem=_("approving with conditions needs a condition"))
    mine.status = decided
    mine.conditions = narrowed
    mine.reason = reason.strip()
    mine.decided_by, mine.decided_at = actor.id, utcnow()
    record(
        session,
        actor,
        action="request.review",
        object_type="request",
        object_id=req.id,
        object_org_id=req.requester_org_id,
        reason=reason.strip(),
        request={"decision": decision, "conditions": narrowed},
        detail={"review": mine.id, "rule": mine.rule, "status": mine.status},
    )
    reviews = reviews_of(session, request_id=req.id)
    if mine.status == ReviewState.rejected:
        req.status, req.decided_at = _move(req, RequestState.rejected), utcnow()
        _void_pending(session, req)
    elif all(r.status in APPROVALS for r in reviews):
        approved = _move(req, RequestState.approved)
        contract = contract_from(session, settings=settings, req=req, reviews=reviews)
        req.status, req.decided_at, req.contract_id = approved, utcnow(), contract.id
    session.flush()
    return req


def _check_conditions(req: AccessRequest, conditions: Conditions | None) -> dict[str, Any]:
    """Conditions may only narrow what was asked."""
    if conditions is None:
        return {}
    out: dict[str, Any] = {}
    problems = []
    if conditions.fields is not None:
        for dataset_id, fields in conditions.fields.items():
            asked = req.datasets.get(dataset_id)
            if asked is None:
                problems.append(_("the request has no dataset {dataset_id}", dataset_id=dataset_id))
            elif not fields or any(f not in asked for f in fields):
                problems.append(
                    _("{dataset_id}: fields may only narrow those asked", dataset_id=dataset_id)
                )
        out["fields"] = conditions.fields
    if conditions.days is not None:
        if conditions.days > req.days:
            problems.append(_("the term may not exceed {days} days", days=req.days))
        out["days"] = conditions.days
    if conditions.max_uses is not None:
        if req.max_uses is not None and conditions.max_uses > req.max_uses:
            problems.append(_("uses may not exceed those asked"))
        out["max_uses"] = conditions.max_uses
    if conditions.epsilon is not None:
        if req.epsilon is not None and conditions.epsilon > req.epsilon:
            problems.append(_("the budget may not exceed that asked"))
        out["epsilon"] = conditions.epsilon
    if conditions.min_group_size is not None:
        out["min_group_size"] = conditions.min_group_size
    if conditions.masks is not None:
        for dataset_id, columns in conditions.masks.items():
            asked = req.datasets.get(dataset_id, [])
            outside = [c for c in columns if c not in asked]
            if dataset_id not in req.datasets or outside:
                problems.append(
                    _(
                        "{dataset_id}: only requested fields can be masked: {outside}",
                        dataset_id=dataset_id,
                        outside=outside,
                    )
                )
        out["masks"] = conditions.masks
    if conditions.row_filters is not None:
        for dataset_id, predicate in conditions.row_filters.items():
            if dataset_id not in req.datasets:
                problems.append(_("the request has no dataset {dataset_id}", dataset_id=dataset_id))
                continue
            problems += row_filter_problems(predicate, req.datasets[dataset_id])
        out["row_filters"] = conditions.row_filters
    if problems:
        raise InvalidInput(problem=Sentences(problems))
    return out


def row_filter_problems(predicate: str, columns: list[str]) -> list[Message]:
    """A row filter must be one boolean SQL expression over the dataset's allowed columns,
    with no subquery and no function call (it is parsed, never pasted into SQL)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(predicate, read="duckdb", error_level=sqlglot.ErrorLevel.RAISE)
    except ParseError as exc:
        return [_("the row filter does not parse: {exc}", exc=exc)]
    problems = []
    if not isinstance(tree, exp.Condition) or isinstance(tree, exp.Column | exp.Literal):
        problems.append(_("the row filter must be a condition"))
    if any(tree.find_all(exp.Select, exp.Subquery, exp.Func)):
        problems.append(_("no subqueries or functions in a row filter"))
    unknown = sorted({c.name for c in tree.find_all(exp.Column)} - set(columns))
    if unknown:
        problems.append(_("unknown or unrequested fields: {unknown}", unknown=unknown))
    return problems
