"""Pydantic shapes of rights, registrations, objections and certificates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yaosu.rights.states import GrantState, ObjectionState, RegistrationState


class GrantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    object_type: str
    object_id: str
    object_version: int
    object_sha256: str
    holder_org_id: str
    grantor_org_id: str | None
    parent_id: str | None
    source: str
    purposes: list[str]
    territory: str
    starts_at: datetime
    ends_at: datetime
    status: GrantState


class ApplicationCreate(BaseModel):
    kind: Literal["holding", "processing", "operation"]
    dataset_id: str = Field(max_length=40)
    statement: str = Field(min_length=5, max_length=5000)
    parent_id: str | None = Field(default=None, max_length=40)
    holder_org_id: str | None = Field(default=None, max_length=40)
    transfer: bool = False
    purposes: list[str] = Field(default_factory=list, max_length=20)
    territory: str = Field(default="CN", min_length=2, max_length=100)
    years: int = Field(default=3, ge=1, le=30)


class ObjectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    reason: str
    status: ObjectionState
    resolution: str | None
    created_at: datetime
    resolved_at: datetime | None


class RegistrationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    grant_id: str
    applicant_org_id: str
    statement: str
    status: RegistrationState
    notice_starts_at: datetime | None
    notice_ends_at: datetime | None
    code: str | None
    decision_note: str | None
    created_at: datetime
    registered_at: datetime | None
    grant: GrantPublic | None = None
    objections: list[ObjectionPublic] = []


class Step(BaseModel):
    action: Literal["accept", "pass", "fail"]
    note: str = Field(default="", max_length=5000)


class ObjectionCreate(BaseModel):
    reason: str = Field(min_length=5, max_length=5000)


class Resolution(BaseModel):
    upheld: bool
    resolution: str = Field(min_length=2, max_length=5000)


class CertificateFile(BaseModel):
    document: dict[str, Any]
    signature: str
    key: str


class Verdict(BaseModel):
    valid: bool
    problem: str | None
    document: dict[str, Any] | None
    status: GrantState | None  # the right's status now (validly signed, yet since transferred?)
