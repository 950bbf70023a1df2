"""Contracts: made from an approved request, accepted (or declined) by the consumer, viewed,
suspended, resumed, revoked, and used.

Both parties accept a contract. The last approval of the request makes it ``offered``: each
provider's acceptance is its approving review. The consumer's admin (whoever ``decide``
allows ``contract.accept``) then accepts the terms, and only then is it in force, its term
starting at the acceptance; or declines them, which ends it.

A contract's use is decided by ``decide(actor, "contract.use", ...)`` and debited (uses and
privacy budget) in the same transaction, with the contract's row locked, so concurrent uses
can never overspend.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, select
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.labels import PRICING
from yaosu.authorization.models import AccessRequest, Contract, Review
from yaosu.authorization.operations import Operation
from yaosu.authorization.policy import Decision, Resource, Rows, enforce, visible
from yaosu.authorization.states import CONTRACT_MOVES, ContractState
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.db import locked, utcnow
from yaosu.kernel.errors import Conflict, InvalidInput, NotFound
from yaosu.kernel.i18n import _, label
from yaosu.kernel.ids import new_id
from yaosu.kernel.settings import Settings
from yaosu.kernel.states import transition

# What each change of status asks for (StatusChange.action) -> the state it leads to.
STATUS_ACTIONS = {
    "suspend": ContractState.suspended,
    "resume": ContractState.active,
    "revoke": ContractState.revoked,
}


def contract_from(
    session: Session, *, settings: Settings, req: AccessRequest, reviews: list[Review]
) -> Contract:
    """The request, narrowed by every reviewer's conditions (the strictest of each wins)."""
    datasets = {k: list(v) for k, v in req.datasets.items()}
    masks: dict[str, dict[str, str]] = {}
    filters: dict[str, list[str]] = {}
    days, max_uses, epsilon = req.days, req.max_uses, req.epsilon
    group = settings.min_group_size if Operation.aggregate in req.operations else None
    for r in reviews:
        c = r.conditions or {}
        for dataset_id, fields in (c.get("fields") or {}).items():
            datasets[dataset_id] = [f for f in datasets[dataset_id] if f in fields]
        days = min(days, c.get("days") or days)
        if c.get("max_uses") is not None:
            max_uses = min(max_uses or c["max_uses"], c["max_uses"])
        if c.get("epsilon") is not None:
            epsilon = min(epsilon or c["epsilon"], c["epsilon"])
        if c.get("min_group_size") is not None:
            group = max(group or 0, c["min_group_size"])
        for dataset_id, columns in (c.get("masks") or {}).items():
            masks.setdefault(dataset_id, {}).update(columns)
        for dataset_id, predicate in (c.get("row_filters") or {}).items():
            filters.setdefault(dataset_id, []).append(predicate)
    starts = utcnow()  # provisional: the term starts when the consumer accepts
    by_provider = sorted(
        (r for r in reviews if r.rule.startswith("provider")), key=lambda r: r.reviewer_org_id
    )
    providers = sorted({r.reviewer_org_id for r in by_provider})
    contract = Contract(
        id=new_id("ctr"),
        request_id=req.id,
        consumer_org_id=req.requester_org_id,
        provider_org_ids=providers,
        purpose=req.purpose,
        operations=list(req.operations),
        datasets=datasets,
        aliases={a: d for a, d in (req.aliases or {}).items() if d in datasets},
        masks={
            d: {col: m for col, m in cols.items() if col in datasets[d]}
            for d, cols in masks.items()
        },
        # several reviewers' filters all apply: their conjunction
        row_filters={d: " AND ".join(f"({p})" for p in ps) for d, ps in filters.items()},
        algorithm=req.algorithm,
        models=req.models,
        starts_at=starts,
        ends_at=starts + timedelta(days=min(days, settings.max_contract_days)),
        max_uses=max_uses,
        uses=0,
        min_group_size=group,
        epsilon_budget=epsilon,
        epsilon_spent=0.0,
        delta=None,
        territory=req.territory,
        duties=duties_for(req.pricing),
        prohibitions=["reidentify", "transfer", "export_raw"],
        pricing=req.pricing,
        status=ContractState.offered,
        provider_acceptances=[
            {
                "org": r.reviewer_org_id,
                "by": r.decided_by,
                "at": r.decided_at.isoformat() if r.decided_at else None,
            }
            for r in by_provider
        ],
        accepted_by=None,
        accepted_at=None,
    )
    session.add(contract)
    session.flush()
    record(
        session,
        system_actor(),
        action="contract.create",
        object_type="contract",
        object_id=contract.id,
        object_org_id=contract.consumer_org_id,
        detail={
            "request": req.id,
            "datasets": datasets,
            "aliases": contract.aliases,
            "ends_at": contract.ends_at.isoformat(),
            "max_uses": max_uses,
            "epsilon": epsilon,
            "status": contract.status,
            "providers_accepted": contract.provider_acceptances,
        },
    )
    return contract


def accept(session: Session, actor: Actor, *, contract_id: str) -> Contract:
    """The consumer accepts the terms: the contract comes into force now, and its term (as
    long as the one offered) starts now."""
    contract = _locked(session, actor, contract_id=contract_id)
    enforce(actor, "contract.accept", contract_resource(contract))
    current = status_of(contract)
    target = transition(
        CONTRACT_MOVES, current, ContractState.active, what=_("Contract"), id=contract.id
    )
    term = contract.ends_at - contract.starts_at
    now = utcnow()
    contract.status = target
    contract.accepted_by, contract.accepted_at = actor.id, now
    contract.starts_at, contract.ends_at = now, now + term
    record(
        session,
        actor,
        action="contract.accept",
        object_type="contract",
        object_id=contract.id,
        object_org_id=contract.consumer_org_id,
        detail={
            "from": current,
            "to": contract.status,
            "starts_at": contract.starts_at.isoformat(),
            "ends_at": contract.ends_at.isoformat(),
        },
    )
    return contract


def decline(session: Session, actor: Actor, *, contract_id: str, reason: str) -> Contract:
    """The consumer declines the terms: the contract never comes into force."""
    contract = _locked(session, actor, contract_id=contract_id)
    enforce(actor, "contract.accept", contract_resource(contract))
    current = status_of(contract)
    target = transition(
        CONTRACT_MOVES, current, ContractState.declined, what=_("Contract"), id=contract.id
    )
    if len(reason.strip()) < 2:
        raise InvalidInput(problem=_("declining needs a reason"))
    contract.status = target
    contract.status_reason = reason.strip()
    record(
        session,
        actor,
        action="contract.decline",
        object_type="contract",
        object_id=contract.id,
        object_org_id=contract.consumer_org_id,
        reason=reason.strip(),
        detail={"from": current, "to": contract.status},
    )
    return contract


def _locked(session: Session, actor: Actor, *, contract_id: str) -> Contract:
    """The contract, its row locked (two answers at once: one at a time), if the actor sees it."""
    stmt = locked(select(Contract).where(Contract.id == contract_id))
    contract = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if contract is None:
        raise NotFound(kind=_("Contract"), id=contract_id)
    enforce(actor, "contract.view", contract_resource(contract))
    return contract


def duties_for(pricing: str) -> list[dict[str, Any]]:
    duties: list[dict[str, Any]] = [
        {"action": "attribute", "zh": "注明数据来源", "en": "attribute the source"},
        {"action": "report_usage", "zh": "按期报告使用情况", "en": "report usage"},
    ]
    if pricing != "free":
        duties.append(
            {
                "action": "compensate",
                "pricing": pricing,
                "zh": f"支付费用（{label(PRICING, pricing).render('zh-CN')}）",
                "en": f"pay the fee ({pricing})",
            }
        )
    return duties


def contract_resource(contract: Contract) -> Resource:
    return Resource(
        "contract",
        contract.id,
        contract.consumer_org_id,
        {
            "providers": list(contract.provider_org_ids),
            "status": contract.status,
            "accepted_at": contract.accepted_at,
            "starts_at": contract.starts_at,
            "ends_at": contract.ends_at,
            "operations": list(contract.operations),
            "datasets": dict(contract.datasets),
            "masks": dict(contract.masks or {}),
            "row_filters": dict(contract.row_filters or {}),
            "purpose": contract.purpose,
            "territory": contract.territory,
            "max_uses": contract.max_uses,
            "uses": contract.uses,
            "min_group_size": contract.min_group_size,
            "epsilon_budget": contract.epsilon_budget,
            "epsilon_spent": contract.epsilon_spent,
            "prohibitions": list(contract.prohibitions),
        },
    )


def _provided_by(org_id: str) -> ColumnElement[bool]:
    # ``provider_org_ids`` is a JSON list of ids: the id, quoted as JSON writes it, occurs in
    # its text only as a whole element (bound, with LIKE's wildcards escaped), on every backend.
    return cast(Contract.provider_org_ids, Text).contains(json.dumps(org_id), autoescape=True)


ROWS = Rows("contract", Contract.consumer_org_id, {"providers": _provided_by})  # as SQL


def status_of(contract: Contract, now: datetime | None = None) -> ContractState:
    """The status users see: an active contract past its end is expired."""
    if contract.status == ContractState.active and (now or utcnow()) >= contract.ends_at:
        return ContractState.expired
    return ContractState(contract.status)


def get_contract(session: Session, actor: Actor, *, contract_id: str) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(kind=_("Contract"), id=contract_id)
    enforce(actor, "contract.view", contract_resource(contract))
    return contract


def list_contracts(session: Session, actor: Actor, *, awaiting: bool = False) -> list[Contract]:
    """Contracts the actor may see (``contract.view``), newest first; or (``awaiting``) the
    offered ones it may accept for its organisation (``contract.accept``)."""
    action = "contract.accept" if awaiting else "contract.view"
    stmt = (
        select(Contract)
        .where(visible(actor, action, ROWS))
        .order_by(Contract.created_at.desc())
        .limit(500)
    )
    if awaiting:
        stmt = stmt.where(Contract.status == ContractState.offered)
    return list(session.scalars(stmt))


def change_status(
    session: Session, actor: Actor, *, contract_id: str, action: str, reason: str
) -> Contract:
    contract = get_contract(session, actor, contract_id=contract_id)
    enforce(actor, "contract.manage", contract_resource(contract))
    current = status_of(contract)
    target = transition(
        CONTRACT_MOVES, current, STATUS_ACTIONS[action], what=_("Contract"), id=contract.id
    )
    if action == "resume" and utcnow() >= contract.ends_at:
        raise Conflict(what=_("The contract has expired"), value=contract.id)
    contract.status = target
    contract.status_reason = reason.strip()
    record(
        session,
        actor,
        action=f"contract.{action}",
        object_type="contract",
        object_id=contract.id,
        object_org_id=contract.consumer_org_id,
        reason=reason.strip(),
        detail={"from": current, "to": contract.status},
    )
    return contract


def use(
    session: Session,
    actor: Actor,
    *,
    contract_id: str,
    operation: str,
    dataset_id: str,
    fields: list[str] | None = None,
    epsilon: float = 0.0,
    purpose: str | None = None,
    territory: str | None = None,
    dry_run: bool = False,
) -> tuple[Decision, Contract]:
    """Decides one use and, unless ``dry_run``, debits it, in the caller's transaction, with
    the contract's row locked: two uses of the last unit cannot both pass. Every decision is
    audited: an allowed one (or a dry run) here, a refusal by the API after the rollback."""
    stmt = locked(select(Contract).where(Contract.id == contract_id))
    contract = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if contract is None:
        raise NotFound(kind=_("Contract"), id=contract_id)
    enforce(actor, "contract.view", contract_resource(contract))
    context = {
        "operation": operation,
        "dataset_id": dataset_id,
        "fields": fields,
        "epsilon": epsilon,
        "purpose": purpose,
        "territory": territory,
        "now": utcnow(),
    }
    decision = enforce(actor, "contract.use", contract_resource(contract), context)
    if not dry_run:
        contract.uses += int(decision.terms["charge"]["uses"])
        contract.epsilon_spent += float(decision.terms["charge"]["epsilon"])
    record(
        session,
        actor,
        action="contract.use",
        object_type="contract",
        object_id=contract.id,
        object_org_id=contract.consumer_org_id,
        reason=decision.reason,
        request={k: v for k, v in context.items() if k != "now"} | {"dry_run": dry_run},
        detail={
            "dry_run": dry_run,
            "uses": contract.uses,
            "epsilon_spent": round(contract.epsilon_spent, 12),
            "dataset": dataset_id,
        },
    )
    return decision, contract


def refund(
    session: Session, actor: Actor, *, contract_id: str, uses: int = 1, epsilon: float = 0.0
) -> Contract:
    """Gives back what a use was charged (a query that failed before reading any row costs
    nothing), in the caller's transaction, with the contract's row locked as ``use`` locks it."""
    stmt = locked(select(Contract).where(Contract.id == contract_id))
    contract = session.scalars(stmt.execution_options(populate_existing=True)).one()
    contract.uses = max(0, contract.uses - uses)
    contract.epsilon_spent = max(0.0, contract.epsilon_spent - epsilon)
    record(
        session,
        actor,
        action="query.refund",
        object_type="contract",
        object_id=contract_id,
        object_org_id=contract.consumer_org_id,
        detail={"epsilon": epsilon, "uses": contract.uses},
    )
    return contract
