"""HTTP routes of the audit domain: entries, checkpoints, proofs, witnesses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from yaosu.audit import entries, log, transparency
from yaosu.audit.models import Checkpoint, Cosignature, Witness
from yaosu.audit.schemas import (
    AuditEntriesPublic,
    AuditEntryPublic,
    CheckpointPublic,
    CheckpointsPublic,
    ConsistencyProofPublic,
    CosignatureCreate,
    InclusionProofPublic,
    LogKey,
    WitnessCreate,
    WitnessPublic,
)
from yaosu.authorization.policy import Resource, enforce
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.web.deps import ContextDep, CurrentActor, OptionalActor, SessionDep
from yaosu.web.params import MAX_INT, IsoDateTime, PathIndex, QueryOffset

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=AuditEntriesPublic)
def list_entries(
    actor: CurrentActor,
    session: SessionDep,
    actor_id: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: QueryOffset = 0,
) -> AuditEntriesPublic:
    enforce(actor, "audit.view", Resource("audit", "log", None))
    items, total = entries.list_entries(
        session,
        actor,
        limit=limit,
        offset=offset,
        actor_id=actor_id,
        object_id=object_id,
        action=action,
        since=since,
        until=until,
    )
    latest = log.latest_checkpoint(session)
    signed = latest.size if latest else 0
    return AuditEntriesPublic(
        items=[
            AuditEntryPublic.model_validate(e).model_copy(
                update={"checkpointed": e.leaf_index < signed}
            )
            for e in items
        ],
        total=total,
        limit=limit,
        offset=offset,
        signed_size=signed,
    )


@router.get("/key", response_model=LogKey)
def key(ctx: ContextDep) -> LogKey:
    """The log's verifier key: pin it, then check checkpoints and exports with it."""
    return LogKey(
        origin=ctx.settings.audit_origin, vkey=transparency.log_signer(ctx.settings).verifier_key()
    )


def _public(session: SessionDep, checkpoint: Checkpoint) -> CheckpointPublic:
    names = session.scalars(
        select(Witness.name)
        .join(Cosignature, Cosignature.witness_id == Witness.id)
        .where(Cosignature.checkpoint_size == checkpoint.size)
        .order_by(Witness.name)
    )
    return CheckpointPublic(
        size=checkpoint.size,
        root=checkpoint.root,
        note=checkpoint.note,
        witnesses=list(names),
        created_at=checkpoint.created_at,
    )


@router.get("/checkpoints", response_model=CheckpointsPublic)
def checkpoints(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: QueryOffset = 0,
) -> CheckpointsPublic:
    items, total = transparency.list_checkpoints(session, limit=limit, offset=offset)
    return CheckpointsPublic(items=[_public(session, c) for c in items], total=total)


@router.post("/checkpoints", response_model=CheckpointPublic, status_code=201)
def make_checkpoint(actor: CurrentActor, session: SessionDep, ctx: ContextDep) -> CheckpointPublic:
    """Sign a checkpoint now (the server also signs on a schedule)."""
    enforce(actor, "audit.checkpoint", Resource("audit", "log", None))
    checkpoint = transparency.make_checkpoint(session, signer=transparency.log_signer(ctx.settings))
    if checkpoint is None:
        raise InvalidInput(problem=_("the log is empty"))
    return _public(session, checkpoint)


@router.get("/checkpoints/latest", response_model=CheckpointPublic)
def latest(session: SessionDep) -> CheckpointPublic:
    return _public(session, transparency.get_checkpoint(session))


@router.get("/checkpoints/{size}", response_model=CheckpointPublic)
def checkpoint(size: PathIndex, session: SessionDep) -> CheckpointPublic:
    return _public(session, transparency.get_checkpoint(session, size=size))


@router.post("/checkpoints/{size}/cosignatures", response_model=CheckpointPublic, status_code=201)
def cosign(
    size: PathIndex, body: CosignatureCreate, actor: CurrentActor, session: SessionDep
) -> CheckpointPublic:
    """A regulator's witness adds its cosignature (c2sp.org/tlog-cosignature)."""
    return _public(
        session, transparency.cosign(session, actor, size=size, line=body.signature.strip())
    )


@router.get("/entries/{index}/inclusion", response_model=InclusionProofPublic)
def inclusion(
    index: PathIndex,
    actor: CurrentActor,
    session: SessionDep,
    size: Annotated[
        int | None, Query(ge=1, le=MAX_INT, description="a checkpoint's size; default the latest")
    ] = None,
) -> InclusionProofPublic:
    proof = transparency.prove_inclusion(session, actor, index=index, size=size)
    return InclusionProofPublic(
        index=proof.index,
        size=proof.size,
        leaf_hash=proof.leaf_hash.hex(),
        proof=[h.hex() for h in proof.proof],
        root=proof.checkpoint.root,
        checkpoint=proof.checkpoint.note,
    )


@router.get("/consistency", response_model=ConsistencyProofPublic)
def consistency(
    session: SessionDep,
    actor: OptionalActor,
    first: Annotated[int, Query(ge=1, le=MAX_INT)],
    second: Annotated[int, Query(ge=1, le=MAX_INT)],
) -> ConsistencyProofPublic:
    proof, old, new = transparency.prove_consistency(session, old=first, new=second)
    return ConsistencyProofPublic(
        first=first,
        second=second,
        proof=[h.hex() for h in proof],
        first_root=old.root,
        second_root=new.root,
    )


@router.get("/witnesses", response_model=list[WitnessPublic])
def witnesses(session: SessionDep) -> list[WitnessPublic]:
    return [WitnessPublic.model_validate(w) for w in transparency.list_witnesses(session)]


@router.post("/witnesses", response_model=WitnessPublic, status_code=201)
def register_witness(
    body: WitnessCreate, actor: CurrentActor, session: SessionDep
) -> WitnessPublic:
    return WitnessPublic.model_validate(
        transparency.register_witness(session, actor, vkey=body.vkey)
    )
