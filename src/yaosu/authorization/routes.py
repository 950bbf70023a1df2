"""HTTP routes of authorisation: purposes, access requests, reviews, contracts and their use."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from yaosu.accounts.schemas import ResponsibilityPublic
from yaosu.authorization import odrl, service
from yaosu.authorization.models import AccessRequest, Contract
from yaosu.authorization.schemas import (
    AcceptanceCreate,
    ContractPublic,
    ContractsPublic,
    DecisionPublic,
    PurposePublic,
    PurposeSet,
    RequestCreate,
    RequestPublic,
    RequestsPublic,
    ReviewCreate,
    ReviewPublic,
    StatusChange,
    UseCreate,
)
from yaosu.authorization.states import RequestState
from yaosu.web.deps import ContextDep, CurrentActor, OptionalActor, SessionDep, locale
from yaosu.web.params import JSONLDResponse

router = APIRouter(prefix="/api/v1", tags=["authorization"])


def request_public(session: Session, req: AccessRequest) -> RequestPublic:
    out = RequestPublic.model_validate(req)
    out.reviews = [
        ReviewPublic.model_validate(r) for r in service.reviews_of(session, request_id=req.id)
    ]
    return out


def contract_public(contract: Contract, session: Session | None = None) -> ContractPublic:
    """A contract; with ``session``, who answers for what under it (a contract's own
    responses: lists and use decisions leave it out)."""
    out = ContractPublic.model_validate(contract)
    out.status = service.status_of(contract)
    if session is not None:
        out.responsibilities = [
            ResponsibilityPublic.model_validate(p)
            for p in service.contract_boundaries(session, contract=contract)
        ]
    return out


@router.get("/purposes", response_model=list[PurposePublic])
def purposes(actor: OptionalActor, session: SessionDep) -> list[PurposePublic]:
    """The purpose taxonomy and the pricing class each implies (public)."""
    return [PurposePublic.model_validate(p) for p in service.list_purposes(session)]


@router.put("/purposes/{code}", response_model=PurposePublic)
def set_purpose(
    code: Annotated[str, Path(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")],
    body: PurposeSet,
    actor: CurrentActor,
    session: SessionDep,
) -> PurposePublic:
    """Add, rename, reprice or retire a purpose (platform admin)."""
    return PurposePublic.model_validate(service.set_purpose(session, actor, code=code, data=body))


@router.post("/requests", response_model=RequestPublic, status_code=201)
def submit(
    body: RequestCreate, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> RequestPublic:
    """Ask for conditionally open data for a purpose; the reviews it needs are routed by rule."""
    return request_public(
        session, service.submit_request(session, actor, settings=ctx.settings, data=body)
    )


@router.get("/requests", response_model=RequestsPublic)
def requests(
    actor: CurrentActor,
    session: SessionDep,
    inbox: bool = False,
    status: RequestState | None = None,
) -> RequestsPublic:
    """Your organisation's requests, or with ``inbox=true`` those awaiting its review."""
    found = service.list_requests(session, actor, inbox=inbox, status=status)
    return RequestsPublic(items=[request_public(session, r) for r in found], total=len(found))


@router.get("/requests/{request_id}", response_model=RequestPublic)
def get_request(request_id: str, actor: CurrentActor, session: SessionDep) -> RequestPublic:
    return request_public(session, service.get_request(session, actor, request_id=request_id))


@router.post("/requests/{request_id}/reviews", response_model=RequestPublic)
def review(
    request_id: str, body: ReviewCreate, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> RequestPublic:
    """Your organisation's review: approve, approve with conditions, or reject, with a reason.
    The last required approval makes the contract."""
    done = service.review(
        session,
        actor,
        settings=ctx.settings,
        request_id=request_id,
        decision=body.decision,
        reason=body.reason,
        conditions=body.conditions,
    )
    return request_public(session, done)


@router.post("/requests/{request_id}/withdraw", response_model=RequestPublic)
def withdraw(request_id: str, actor: CurrentActor, session: SessionDep) -> RequestPublic:
    return request_public(session, service.withdraw(session, actor, request_id=request_id))


@router.get("/contracts", response_model=ContractsPublic)
def contracts(actor: CurrentActor, session: SessionDep) -> ContractsPublic:
    """Contracts your organisation is a party to (regulators and the platform: all)."""
    found = service.list_contracts(session, actor)
    return ContractsPublic(items=[contract_public(c) for c in found], total=len(found))


@router.get("/contracts/{contract_id}", response_model=ContractPublic)
def contract(contract_id: str, actor: CurrentActor, session: SessionDep) -> ContractPublic:
    """A contract you are a party to (or oversee), with who answers for what under it."""
    return contract_public(service.get_contract(session, actor, contract_id=contract_id), session)


@router.post("/contracts/{contract_id}/status", response_model=ContractPublic)
def change_status(
    contract_id: str, body: StatusChange, actor: CurrentActor, session: SessionDep
) -> ContractPublic:
    """Suspend, resume or revoke, with a reason (provider admin, regulator, platform)."""
    done = service.change_status(
        session, actor, contract_id=contract_id, action=body.action, reason=body.reason
    )
    return contract_public(done, session)


@router.post("/contracts/{contract_id}/acceptance", response_model=ContractPublic)
def answer(
    contract_id: str, body: AcceptanceCreate, actor: CurrentActor, session: SessionDep
) -> ContractPublic:
    """The data user's answer to an offered contract (its admin): ``accept`` brings it into
    force, its term starting now; ``decline`` (with a reason) ends it. The providers
    accepted it by approving the request."""
    if body.decision == "accept":
        done = service.accept(session, actor, contract_id=contract_id)
    else:
        done = service.decline(session, actor, contract_id=contract_id, reason=body.reason or "")
    return contract_public(done, session)


@router.post("/contracts/{contract_id}/decisions", response_model=DecisionPublic)
def decide_use(
    contract_id: str, body: UseCreate, request: Request, actor: CurrentActor, session: SessionDep
) -> DecisionPublic:
    """The policy decision point: may the consumer do this now under this contract? Unless
    ``dry_run``, an allowed use is debited (one use, and ``epsilon``) in the same
    transaction. A refusal is 403 naming the clause."""
    decision, done = service.use(
        session,
        actor,
        contract_id=contract_id,
        operation=body.operation,
        dataset_id=body.dataset_id,
        fields=body.fields,
        epsilon=body.epsilon,
        purpose=body.purpose,
        territory=body.territory,
        dry_run=body.dry_run,
    )
    return DecisionPublic(
        allowed=True,
        reason=decision.reason.render(locale(request)),
        terms=dict(decision.terms),
        contract=contract_public(done),
    )


@router.get("/contracts/{contract_id}/odrl", response_class=JSONLDResponse)
def export_odrl(contract_id: str, actor: CurrentActor, session: SessionDep) -> JSONLDResponse:
    """The contract as an ODRL 2.2 Agreement (JSON-LD) with Yaosu's profile."""
    doc = odrl.to_odrl(service.get_contract(session, actor, contract_id=contract_id))
    return JSONLDResponse(doc)


@router.post(
    "/contracts/odrl",
    response_model=ContractPublic,
    status_code=201,
    responses={
        200: {"model": ContractPublic, "description": "mode=check: the contract it would be"}
    },
)
def import_odrl(
    doc: dict[str, Any],
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    mode: Annotated[Literal["create", "check"], Query()] = "create",
) -> Any:
    """Import an ODRL 2.2 Agreement (platform admin): ``check`` only parses and validates it
    and returns the contract it would be; ``create`` records it as an active contract."""
    made = odrl.import_agreement(
        session, actor, settings=ctx.settings, doc=doc, create=mode == "create"
    )
    if mode == "check":
        return JSONResponse(contract_public(made).model_dump(mode="json"), status_code=200)
    return contract_public(made)
