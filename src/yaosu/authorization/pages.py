"""Console pages of authorisation: the request wizard, requests and the reviewer inbox,
a request with its reviews, and the contract page (terms in plain words, uses, budget)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.authorization import service
from yaosu.authorization.aliases import alias_of, identifier_from
from yaosu.authorization.models import Contract, Purpose
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import decide
from yaosu.authorization.schemas import Conditions, RequestCreate
from yaosu.authorization.states import ContractState
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.console.i18n import format_datetime
from yaosu.console.render import back_with_error, done, render
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, YaosuError, translate
from yaosu.kernel.i18n import _
from yaosu.privacy.service import confirmed_screen, shown_findings
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)


def _names(session: Session) -> dict[str, str]:
    return accounts.org_names(session)


def _titles(session: Session, ids: Any) -> dict[str, str]:
    known = catalog.dataset_titles(session, ids=ids)
    return {i: known.get(i, i) for i in ids}


def personal_fields(session: Session, actor: Actor, *, ds: Any) -> dict[str, str]:
    """The fields the latest version's confirmed screen found personal information in, each
    with its marker: ``sensitive`` (sensitive personal information) or ``personal``. None
    before a screen is confirmed (the form says so)."""
    screen = (
        confirmed_screen(session, dataset_id=ds.id, version=ds.latest_version)
        if ds.latest_version
        else None
    )
    if screen is None:
        return {}
    marks: dict[str, str] = {}
    for column in shown_findings(session, actor, screen=screen).get("columns", []):
        found = [e for e in column.get("entities", []) if e.get("personal")]
        if found:
            marks[column["column"]] = (
                "sensitive" if any(e.get("sensitive") for e in found) else "personal"
            )
    return marks


def _wizard(
    request: Request,
    actor: Actor,
    session: Session,
    *,
    dataset: str,
    values: dict[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    ds = catalog.get_dataset(session, actor, dataset_id=dataset)
    version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
    screened = (
        confirmed_screen(session, dataset_id=ds.id, version=ds.latest_version) is not None
        if ds.latest_version
        else False
    )
    return render(
        request,
        actor,
        "request_new.html",
        status=status,
        ds=ds,
        fields=[c["name"] for c in version.columns],
        personal=personal_fields(session, actor, ds=ds),
        screened=screened,
        default_alias=identifier_from(ds.title),
        purposes=service.list_purposes(session),
        operations=list(Operation),
        values=values,
        error=error,
    )


@router.get("/requests/new")
def wizard(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    dataset: Annotated[str, Query(max_length=40)],
) -> Response:
    return _wizard(request, actor, session, dataset=dataset, values={})


@router.post("/requests/new")
def submit(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    dataset: Annotated[str, Form(max_length=40)],
    purpose: Annotated[str, Form(max_length=40)] = "",
    fields: Annotated[list[str] | None, Form()] = None,
    operations: Annotated[list[str] | None, Form()] = None,
    algorithm: Annotated[str, Form(max_length=200)] = "",
    models: Annotated[str, Form(max_length=3)] = "",
    days: Annotated[str, Form(max_length=6)] = "",
    max_uses: Annotated[str, Form(max_length=10)] = "",
    epsilon: Annotated[str, Form(max_length=10)] = "",
    justification: Annotated[str, Form(max_length=5000)] = "",
    alias: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {
        "alias": alias,
        "purpose": purpose,
        "fields": fields or [],
        "operations": operations or [],
        "algorithm": algorithm,
        "models": models == "on",
        "days": days,
        "max_uses": max_uses,
        "epsilon": epsilon,
        "justification": justification,
    }
    try:
        try:
            body = RequestCreate.model_validate(
                {
                    "purpose": purpose,
                    "datasets": {dataset: fields or []},
                    "aliases": {alias.strip(): dataset} if alias.strip() else {},
                    "operations": operations or [],
                    "algorithm": algorithm or None,
                    "models": models == "on",
                    "days": days or 0,
                    "max_uses": max_uses or None,
                    "epsilon": epsilon or None,
                    "justification": justification,
                }
            )
        except ValidationError as exc:
            raise translate(exc) from exc
        with session.begin_nested():
            made = service.submit_request(session, actor, settings=ctx.settings, data=body)
    except YaosuError as exc:
        audit_refusal(request, exc, session)
        return _wizard(
            request,
            actor,
            session,
            dataset=dataset,
            values=values,
            error=exc.message(locale(request)),
            status=exc.status,
        )
    return done(f"/requests/{made.id}", "request.submitted")


@router.get("/requests")
def requests_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    return _listing(request, actor, session, service.list_requests(session, actor), inbox=False)


@router.get("/reviews")
def inbox(request: Request, actor: PageActor, session: SessionDep) -> Response:
    """The reviewer's inbox: requests awaiting this organisation's review, soonest due first."""
    found = sorted(service.list_requests(session, actor, inbox=True), key=lambda r: r.due_at)
    return _listing(request, actor, session, found, inbox=True)


def _listing(
    request: Request, actor: Any, session: Session, items: list[Any], *, inbox: bool
) -> Response:
    purposes = {p.code: p for p in service.list_purposes(session, include_retired=True)}
    return render(
        request,
        actor,
        "requests.html",
        items=items,
        names=_names(session),
        titles=_titles(session, {d for r in items for d in r.datasets}),
        purposes=purposes,
        inbox=inbox,
    )


@router.get("/requests/{request_id}")
def request_page(
    request: Request,
    request_id: str,
    actor: PageActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    req = service.get_request(session, actor, request_id=request_id)
    reviews = service.reviews_of(session, request_id=req.id)
    resource = service.request_resource(session, req=req)
    mine = next((r for r in reviews if r.reviewer_org_id == actor.org_id), None)
    can_review = (
        req.status == "submitted"
        and mine is not None
        and mine.status == "pending"
        and decide(actor, "request.review", resource).allowed
    )
    screens = {}
    if can_review:
        for dataset_id in req.datasets:
            ds = catalog.find_dataset(session, dataset_id=dataset_id)
            if ds is not None:
                screens[dataset_id] = confirmed_screen(
                    session, dataset_id=ds.id, version=ds.latest_version
                )
    return render(
        request,
        actor,
        "request.html",
        req=req,
        reviews=reviews,
        names=_names(session),
        titles=_titles(session, req.datasets),
        aliases={d: alias_of(req.aliases, d) for d in req.datasets},
        named="".join(f"《{t}》" for t in _titles(session, req.datasets).values()),
        purpose=session.get(Purpose, req.purpose),
        can={
            "request.review": can_review,
            "request.withdraw": req.status == "submitted"
            and decide(actor, "request.withdraw", resource).allowed,
        },
        screens=screens,
        error=error,
    )


@router.post("/requests/{request_id}/review")
def review(
    request: Request,
    request_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    decision: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
    days: Annotated[str, Form(max_length=6)] = "",
    max_uses: Annotated[str, Form(max_length=10)] = "",
    epsilon: Annotated[str, Form(max_length=10)] = "",
    min_group_size: Annotated[str, Form(max_length=8)] = "",
    keep: Annotated[list[str] | None, Form()] = None,
) -> Response:
    target = f"/requests/{request_id}"
    try:
        conditions = None
        if decision == "conditional":
            req = service.get_request(session, actor, request_id=request_id)
            fields: dict[str, list[str]] | None = None
            if keep is not None:
                fields = {
                    d: [f for f in req.datasets[d] if f"{d}:{f}" in keep] for d in req.datasets
                }
                if all(fields[d] == req.datasets[d] for d in fields):
                    fields = None
            try:
                conditions = Conditions.model_validate(
                    {
                        "fields": fields,
                        "days": days or None,
                        "max_uses": max_uses or None,
                        "epsilon": epsilon or None,
                        "min_group_size": min_group_size or None,
                    }
                )
            except ValidationError as exc:
                raise translate(exc) from exc
        if decision not in ("approve", "conditional", "reject"):
            raise InvalidInput(problem=_("choose a decision"))
        with session.begin_nested():
            reviewed = service.review(
                session,
                actor,
                settings=ctx.settings,
                request_id=request_id,
                decision=decision,
                reason=reason,
                conditions=conditions,
            )
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    if reviewed.contract_id:
        return done(f"/contracts/{reviewed.contract_id}", "contract.made")
    return done(target, "review.rejected" if reviewed.status == "rejected" else "review.recorded")


@router.post("/requests/{request_id}/withdraw")
def withdraw(request: Request, request_id: str, actor: PageActor, session: SessionDep) -> Response:
    service.withdraw(session, actor, request_id=request_id)
    return done(f"/requests/{request_id}", "request.withdrawn")


@router.get("/contracts")
def contracts_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    found = service.list_contracts(session, actor)
    return render(
        request,
        actor,
        "contracts.html",
        items=found,
        states={c.id: service.status_of(c) for c in found},
        names=_names(session),
        titles=_titles(session, {d for c in found for d in c.datasets}),
        purposes={p.code: p for p in service.list_purposes(session, include_retired=True)},
    )


@router.get("/contracts/{contract_id}")
def contract_page(
    request: Request,
    contract_id: str,
    actor: PageActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    contract = service.get_contract(session, actor, contract_id=contract_id)
    names = _names(session)
    titles = _titles(session, contract.datasets)
    purpose = session.get(Purpose, contract.purpose)
    state = service.status_of(contract)
    return render(
        request,
        actor,
        "contract.html",
        c=contract,
        state=state,
        names=names,
        titles=titles,
        aliases={d: alias_of(contract.aliases, d) for d in contract.datasets},
        purpose_name=_purpose_name(purpose, locale(request)) or contract.purpose,
        terms=plain_terms(contract, names, titles, purpose),
        acceptances=_acceptances(session, contract),
        parts=service.contract_boundaries(session, contract=contract),
        extractable=_usable(actor, contract, Operation.extract),
        can=_can(actor, contract, state),
        error=error,
    )


def _purpose_name(purpose: Purpose | None, lang: str) -> str | None:
    if purpose is None:
        return None
    return purpose.name_en if lang.startswith("en") else purpose.name_zh


def _user_name(session: Session, user_id: str | None) -> str | None:
    if not user_id:
        return None
    if user_id.startswith("system:"):  # the local operator, through the CLI
        return user_id
    user = accounts.find_user(session, user_id=user_id)
    return user.display_name or user.username if user is not None else user_id


def _acceptances(session: Session, contract: Contract) -> dict[str, Any]:
    """Who accepted for each party, and when: each provider by its approving review, the
    data user by its admin's acceptance of the terms."""
    providers = []
    for a in contract.provider_acceptances or []:
        at = a.get("at")
        providers.append(
            {
                "org": a["org"],
                "by": _user_name(session, a.get("by")),
                "at": datetime.fromisoformat(at) if at else None,
            }
        )
    return {
        "providers": providers,
        "consumer": {
            "org": contract.consumer_org_id,
            "by": _user_name(session, contract.accepted_by),
            "at": contract.accepted_at,
        },
    }


def _usable(actor: Actor, contract: Contract, operation: Operation) -> list[str]:
    """The datasets the actor may use the contract for, for ``operation``, now (a use that
    charges nothing: only the clauses are asked)."""
    resource = service.contract_resource(contract)
    return [
        d
        for d in contract.datasets
        if decide(
            actor, "contract.use", resource, {"operation": operation, "dataset_id": d, "uses": 0}
        ).allowed
    ]


def _can(actor: Actor, contract: Contract, state: str) -> dict[str, bool]:
    """The contract page's buttons: answering the offer, managing it, running a governed
    query under it (aggregates, or the granted rows), making an extract and submitting a
    compute job (when it permits compute and names the algorithm)."""
    resource = service.contract_resource(contract)
    return {
        "contract.accept": state == ContractState.offered
        and decide(actor, "contract.accept", resource).allowed,
        "contract.manage": decide(actor, "contract.manage", resource).allowed,
        "contract.use": bool(
            _usable(actor, contract, Operation.aggregate)
            or _usable(actor, contract, Operation.extract)
        ),
        "extract": bool(_usable(actor, contract, Operation.extract)),
        "compute.submit": bool(contract.algorithm)
        and bool(_usable(actor, contract, Operation.compute)),
    }


@router.post("/contracts/{contract_id}/acceptance")
def answer(
    request: Request,
    contract_id: str,
    actor: PageActor,
    session: SessionDep,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The data user's admin accepts the terms (the contract comes into force) or declines."""
    target = f"/contracts/{contract_id}"
    try:
        if decision not in ("accept", "decline"):
            raise InvalidInput(problem=_("choose to accept or to decline"))
        with session.begin_nested():
            if decision == "accept":
                service.accept(session, actor, contract_id=contract_id)
            else:
                service.decline(session, actor, contract_id=contract_id, reason=reason)
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, "contract.accepted" if decision == "accept" else "contract.declined")


@router.post("/contracts/{contract_id}/status")
def change_status(
    request: Request,
    contract_id: str,
    actor: PageActor,
    session: SessionDep,
    action: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = f"/contracts/{contract_id}"
    try:
        if action not in ("suspend", "resume", "revoke"):
            raise InvalidInput(problem=_("unknown action"))
        if len(reason.strip()) < 2:
            raise InvalidInput(problem=_("a reason is needed"))
        with session.begin_nested():
            service.change_status(
                session, actor, contract_id=contract_id, action=action, reason=reason
            )
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, f"contract.{action}")


def plain_terms(
    c: Contract, names: dict[str, str], titles: dict[str, str], purpose: Any
) -> list[tuple[str, str]]:
    """The contract in plain sentences, Chinese and English, clause by clause."""
    consumer = names.get(c.consumer_org_id, c.consumer_org_id)
    providers = "、".join(names.get(p, p) for p in c.provider_org_ids)
    providers_en = ", ".join(names.get(p, p) for p in c.provider_org_ids)
    ops_zh = {
        "aggregate": "统计查询",
        "extract": "获取去标识化数据",
        "compute": "数据不出域的计算",
        "download": "下载开放数据",
    }
    out = [
        (
            f"{providers}授权{consumer}，为“{purpose.name_zh if purpose else c.purpose}”用途，"
            f"对下列数据进行：{'、'.join(ops_zh[o] for o in c.operations)}。",
            f"{providers_en} authorise {consumer}, for the purpose “{purpose.name_en if purpose else c.purpose}”, "
            f"to: {', '.join(c.operations)}.",
        )
    ]
    for dataset_id, fields in c.datasets.items():
        title = titles.get(dataset_id, dataset_id)
        out.append(
            (
                f"《{title}》只能使用字段：{'、'.join(fields)}。",
                f"Of “{title}” only these fields may be used: {', '.join(fields)}.",
            )
        )
        alias = alias_of(c.aliases, dataset_id)
        if alias:
            out.append(
                (
                    f"受控查询中以 {alias} 指代《{title}》。",
                    f"Governed queries name “{title}” {alias}.",
                )
            )
    for dataset_id, columns in (c.masks or {}).items():
        title = titles.get(dataset_id, dataset_id)
        listed = "、".join(
            f"{col}（{'哈希' if m == 'hash' else '遮蔽'}）" for col, m in columns.items()
        )
        listed_en = ", ".join(f"{col} ({m})" for col, m in columns.items())
        out.append(
            (
                f"《{title}》的以下字段只能以遮蔽形式使用：{listed}。",
                f"Of “{title}” these fields are usable only masked: {listed_en}.",
            )
        )
    for dataset_id, predicate in (c.row_filters or {}).items():
        title = titles.get(dataset_id, dataset_id)
        out.append(
            (
                f"《{title}》只能使用满足 {predicate} 的记录。",
                f"Of “{title}” only rows where {predicate} may be used.",
            )
        )
    if c.accepted_at is None:  # offered (or declined): the term starts at the acceptance
        days = round((c.ends_at - c.starts_at).total_seconds() / 86400)
        out.append(
            (
                f"有效期 {days} 天，自数据使用方接受本协议时起算，到期自动失效。",
                f"In force for {days} days from the data user's acceptance; it lapses by itself.",
            )
        )
    else:
        out.append(
            (
                f"有效期自 {format_datetime(c.starts_at, 'zh-CN')} 至 "
                f"{format_datetime(c.ends_at, 'zh-CN')}，到期自动失效。",
                f"In force from {format_datetime(c.starts_at, 'en')} to "
                f"{format_datetime(c.ends_at, 'en')}; it lapses by itself.",
            )
        )
    if c.max_uses is not None:
        out.append((f"最多使用 {c.max_uses} 次。", f"At most {c.max_uses} uses."))
    if c.min_group_size:
        out.append(
            (
                f"统计结果中少于 {c.min_group_size} 人的分组不予显示。",
                f"Groups of fewer than {c.min_group_size} people are never shown.",
            )
        )
    if c.epsilon_budget is not None:
        out.append(
            (
                f"差分隐私总预算 ε = {c.epsilon_budget:g}，每次查询扣减，用尽即止。",
                f"A total differential-privacy budget of ε = {c.epsilon_budget:g}, debited by each query, refused once spent.",
            )
        )
    out.append((f"使用地域：{c.territory}。", f"Territory: {c.territory}."))
    for duty in c.duties:
        out.append(
            (
                f"义务：{duty.get('zh', duty['action'])}。",
                f"Duty: {duty.get('en', duty['action'])}.",
            )
        )
    prohibited = {
        "reidentify": ("不得重新识别个人", "no re-identification of anyone"),
        "transfer": ("不得向第三方转让或提供", "no onward transfer to third parties"),
        "export_raw": ("不得导出原始数据", "no export of raw data"),
    }
    for p in c.prohibitions:
        zh, en = prohibited.get(p, (p, p))
        out.append((f"禁止：{zh}。", f"Prohibited: {en}."))
    return out
