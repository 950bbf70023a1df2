"""Pydantic shapes of purposes, access requests, reviews and contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yaosu.accounts.schemas import ResponsibilityPublic
from yaosu.authorization.operations import Operation
from yaosu.authorization.states import ContractState, RequestState, ReviewState


class PurposePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    pricing: str
    description: str
    active: bool


class PurposeSet(BaseModel):
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    pricing: Literal["free", "capped", "market"]
    description: str = Field(default="", max_length=2000)
    active: bool = True


class RequestCreate(BaseModel):
    purpose: str = Field(min_length=1, max_length=40)
    datasets: dict[str, list[str]] = Field(min_length=1, max_length=20)
    # {alias: dataset_id}: the names the datasets take in governed SQL; a dataset left out
    # is named after its title (authorization.aliases)
    aliases: dict[Annotated[str, Field(max_length=200)], Annotated[str, Field(max_length=40)]] = (
        Field(default_factory=dict, max_length=20)
    )
    operations: list[Operation] = Field(min_length=1, max_length=len(Operation))
    algorithm: str | None = Field(default=None, max_length=200)
    models: bool = Field(
        default=False,
        description="compute-to-data: a trained model may leave the job (held for a person)",
    )
    days: int = Field(ge=1, le=1826)
    max_uses: int | None = Field(default=None, ge=1, le=10_000_000)
    epsilon: float | None = Field(default=None, gt=0, le=100)
    justification: str = Field(min_length=10, max_length=5000)
    territory: str = Field(default="CN", min_length=2, max_length=100)


class Conditions(BaseModel):
    """What a reviewer may narrow: fields, term, number of uses, budget, group size."""

    fields: dict[str, list[str]] | None = None
    days: int | None = Field(default=None, ge=1, le=1826)
    max_uses: int | None = Field(default=None, ge=1, le=10_000_000)
    epsilon: float | None = Field(default=None, gt=0, le=100)
    min_group_size: int | None = Field(default=None, ge=2, le=100_000)
    # {dataset_id: {column: "hash" | "mask"}}: the column stays usable only masked
    masks: dict[str, dict[str, Literal["hash", "mask"]]] | None = None
    # {dataset_id: predicate}: only rows matching it, e.g. "所属乡镇" = '城关镇'
    row_filters: dict[str, str] | None = None


class ReviewCreate(BaseModel):
    decision: Literal["approve", "conditional", "reject"]
    reason: str = Field(min_length=2, max_length=5000)
    conditions: Conditions | None = None


class ReviewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reviewer_org_id: str
    rule: str
    status: ReviewState
    conditions: dict[str, Any]
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    due_at: datetime


class RequestPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    requester_org_id: str
    requested_by: str
    purpose: str
    datasets: dict[str, list[str]]
    aliases: dict[str, str]  # {alias: dataset_id}: the names in governed SQL
    operations: list[Operation]
    algorithm: str | None
    models: bool = False
    days: int
    max_uses: int | None
    epsilon: float | None
    justification: str
    territory: str
    status: RequestState
    pricing: str
    due_at: datetime
    contract_id: str | None
    created_at: datetime
    decided_at: datetime | None
    reviews: list[ReviewPublic] = []


class RequestsPublic(BaseModel):
    items: list[RequestPublic]
    total: int


class AcceptancePublic(BaseModel):
    """One provider's acceptance of a contract: its approving review (who, when)."""

    org: str
    by: str | None
    at: datetime | None


class ContractPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    request_id: str | None
    consumer_org_id: str
    provider_org_ids: list[str]
    purpose: str
    operations: list[Operation]
    datasets: dict[str, list[str]]
    aliases: dict[str, str]  # {alias: dataset_id}: the names in governed SQL
    masks: dict[str, dict[str, str]]
    row_filters: dict[str, str]
    algorithm: str | None
    models: bool = False
    starts_at: datetime
    ends_at: datetime
    max_uses: int | None
    uses: int
    min_group_size: int | None
    epsilon_budget: float | None
    epsilon_spent: float
    delta: float | None
    territory: str
    duties: list[dict[str, Any]]
    prohibitions: list[str]
    pricing: str
    status: ContractState
    status_reason: str | None
    # Both parties' acceptances: each provider's approving review, and the consumer's
    provider_acceptances: list[AcceptancePublic]
    accepted_by: str | None
    accepted_at: datetime | None
    created_at: datetime
    # Who answers for what (责任边界): in a contract's own responses, not in lists
    responsibilities: list[ResponsibilityPublic] | None = None


class ContractsPublic(BaseModel):
    items: list[ContractPublic]
    total: int


class StatusChange(BaseModel):
    action: Literal["suspend", "resume", "revoke"]
    reason: str = Field(min_length=2, max_length=2000)


class AcceptanceCreate(BaseModel):
    """The consumer's answer to an offered contract: accept its terms, or decline them (with
    a reason)."""

    decision: Literal["accept", "decline"]
    reason: str | None = Field(default=None, max_length=2000)


class UseCreate(BaseModel):
    """One use of a contract, as a policy enforcement point asks the decision point."""

    operation: Operation
    dataset_id: str = Field(max_length=40)
    fields: list[str] | None = Field(default=None, max_length=10_000)
    epsilon: float = Field(default=0.0, ge=0, le=100)
    purpose: str | None = Field(default=None, max_length=40)
    territory: str | None = Field(default=None, max_length=100)
    dry_run: bool = False


class DecisionPublic(BaseModel):
    allowed: bool
    reason: str
    terms: dict[str, Any]
    contract: ContractPublic
