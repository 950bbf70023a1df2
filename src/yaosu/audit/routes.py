"""HTTP routes of the audit domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from yaosu.audit import service
from yaosu.authorization.service import Resource, enforce
from yaosu.web import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor_id: str
    actor_org_id: str | None
    action: str
    object_type: str
    object_id: str
    object_org_id: str | None
    decision: str
    reason: str
    request_hash: str
    detail: dict[str, Any]


class AuditEntriesPublic(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    limit: int
    offset: int


@router.get("/audit", response_model=AuditEntriesPublic)
def list_entries(
    actor: CurrentActor,
    session: SessionDep,
    actor_id: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditEntriesPublic:
    enforce(actor, "audit.view", Resource("audit", "log", None))
    items, total = service.list_entries(
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
    return AuditEntriesPublic(
        items=[AuditEntryPublic.model_validate(e) for e in items],
        total=total,
        limit=limit,
        offset=offset,
    )
