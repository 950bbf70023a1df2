"""Pydantic shapes of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    leaf_index: int
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
    checkpointed: bool = Field(
        default=False, description="covered by a signed checkpoint, so an inclusion proof exists"
    )


class AuditEntriesPublic(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    limit: int
    offset: int
    signed_size: int


class LogKey(BaseModel):
    origin: str
    vkey: str = Field(description="the log's verifier key (C2SP signed-note)")


class CheckpointPublic(BaseModel):
    size: int
    root: str = Field(description="hex")
    note: str = Field(description="the signed note: checkpoint text, blank line, signatures")
    witnesses: list[str]
    created_at: datetime


class CheckpointsPublic(BaseModel):
    items: list[CheckpointPublic]
    total: int


class InclusionProofPublic(BaseModel):
    index: int
    size: int
    leaf_hash: str
    proof: list[str]
    root: str
    checkpoint: str


class ConsistencyProofPublic(BaseModel):
    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str


class WitnessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vkey: str = Field(min_length=10, max_length=300, description="name+keyid+base64(0x04||key)")


class WitnessPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    name: str
    vkey: str
    created_at: datetime


class CosignatureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signature: str = Field(min_length=10, max_length=500, description="— <name> <base64>")
