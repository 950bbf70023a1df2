"""The compute domain's API bodies and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yaosu.web.params import MAX_INT32, IsoDate

AlgorithmType = Literal["generation", "push", "ranking", "retrieval", "scheduling"]
Text200 = Field(min_length=1, max_length=200)


class Responsible(BaseModel):
    """算法安全责任人: the person who answers for the algorithm's safety."""

    name: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=100)
    contact: str = Field(min_length=3, max_length=200)


class PublicText(BaseModel):
    """拟公示内容: what the public disclosure page shows once the algorithm is filed."""

    principle: str = Field(min_length=10, max_length=4000, description="基本原理")
    purpose: str = Field(min_length=10, max_length=4000, description="目的意图")
    mechanism: str = Field(min_length=10, max_length=4000, description="主要运行机制")


class AlgorithmFile(BaseModel):
    """The filing form (Art. 24): the bundle itself is uploaded beside it, as a zip."""

    name: str = Text200
    algorithm_type: AlgorithmType
    service_form: str = Field(min_length=1, max_length=200, description="服务形式, e.g. API")
    field: str = Field(min_length=1, max_length=200, description="应用领域")
    uses: list[str] = Field(min_length=1, max_length=20)
    subjects: list[str] = Field(default_factory=list, max_length=10)
    responsible: Responsible
    self_assessment: str = Field(min_length=20, max_length=20_000, description="自评估报告")
    public_text: PublicText
    started_on: IsoDate | None = Field(
        default=None, description="the day the service started (default today)"
    )


class AlgorithmChange(BaseModel):
    summary: str = Field(min_length=2, max_length=4000, description="what changed and why")
    changed_on: IsoDate | None = None


class Deregistration(BaseModel):
    reason: str = Field(min_length=2, max_length=4000)
    ended_on: IsoDate | None = Field(default=None, description="the day the service ended")


class FilingDecision(BaseModel):
    decision: Literal["file", "return"]
    reason: str = Field(default="", max_length=4000)


class FilingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    algorithm_id: str
    kind: str
    version: int | None
    status: str
    event_on: date
    submit_by: date
    late: bool
    due_on: date
    provisional: bool
    summary: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime


class VersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    sha256: str
    entry: str
    runtime: str
    outputs: list[str]
    parameters: dict[str, Any]
    files: list[dict[str, Any]]
    description: str
    created_at: datetime


class AlgorithmPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    name: str
    algorithm_type: str
    service_form: str
    field: str
    uses: list[str]
    subjects: list[str]
    public_text: dict[str, str]
    status: str
    filing_number: str | None
    filed_at: datetime | None
    current_version: int
    sha256: str
    created_at: datetime


class AlgorithmDetail(AlgorithmPublic):
    """What the provider and oversight see besides the public text."""

    responsible: dict[str, str]
    self_assessment: str
    versions: list[VersionPublic]
    filings: list[FilingPublic]


class TrustCreate(BaseModel):
    algorithm_id: str = Field(min_length=1, max_length=40)
    version: int | None = Field(
        default=None, ge=1, le=MAX_INT32, description="default: the current one"
    )
    note: str = Field(default="", max_length=2000)


class TrustedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    algorithm_id: str
    sha256: str
    note: str
    approved_by: str
    approved_at: datetime
    revoked_at: datetime | None


class JobCreate(BaseModel):
    contract_id: str = Field(min_length=1, max_length=40)
    algorithm_id: str = Field(min_length=1, max_length=40)
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="the version to run, by hash (default: the current version)",
    )
    datasets: list[str] | None = Field(
        default=None, max_length=20, description="default: every dataset of the contract"
    )
    params: dict[str, Any] = Field(default_factory=dict)


class JobDecision(BaseModel):
    decision: Literal["approve", "refuse"]
    reason: str = Field(default="", max_length=4000)
    trust: bool = Field(
        default=True, description="also add the algorithm's hash to the dataset's trusted list"
    )


class ReviewDecision(BaseModel):
    decision: Literal["release", "reject"]
    reason: str = Field(min_length=2, max_length=4000)


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    contract_id: str
    consumer_org_id: str
    provider_org_ids: list[str]
    algorithm_id: str
    version: int
    sha256: str
    datasets: list[str]
    params: dict[str, Any]
    status: str
    status_reason: str | None
    approvals: list[dict[str, Any]]
    runtime: dict[str, Any]
    inputs: list[dict[str, Any]]
    outcome: dict[str, Any]
    check: dict[str, Any]
    outputs: list[dict[str, Any]]
    log: str
    progress: float
    stage: str
    task_id: str | None
    heartbeat_at: datetime | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    cleaned_at: datetime | None
    filing_number: str | None = None
    responsibilities: list[dict[str, Any]] = []
