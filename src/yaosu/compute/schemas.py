"""The compute domain's API bodies and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yaosu.accounts.schemas import ResponsibilityPublic
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
    epsilon: float | None = Field(
        default=None,
        ge=1e-3,  # the governed query's range (access.accuracy MIN_EPSILON, MAX_EPSILON)
        le=10.0,
        allow_inf_nan=False,
        description=(
            "under a contract with a privacy budget: the ε the job's differentially private"
            " release spends (default 1.0), split over its statistics tables"
        ),
    )


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
    status_reason: dict[str, str] | None  # {"zh": …, "en": …}
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
    ethics_review_id: str | None = None
    epsilon: float | None = None
    responsibilities: list[ResponsibilityPublic] = []  # who answers for what (责任边界)


# --- ethics review (科技伦理审查) -------------------------------------------------------------

Expertise = Literal["technical", "ethics", "legal", "other"]
Place = Annotated[int, Field(ge=0, le=59)]  # a member's place in the committee's list
Vote = Literal["approve", "approve_with_changes", "revise", "reject"]


class Member(BaseModel):
    """One member of an ethics committee (科技伦理审查办法（试行）Art. 7)."""

    name: str = Field(min_length=1, max_length=100)
    expertise: Expertise = Field(description="同行专家 technical, 伦理 ethics, 法律 legal")
    gender: Literal["female", "male"]
    external: bool = Field(default=False, description="单位外委员: not of the organisation")
    affiliation: str = Field(default="", max_length=200)
    chair: bool = Field(default=False, description="主任委员")


class CommitteeCreate(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    members: list[Member] = Field(min_length=1, max_length=60)
    entrusted: bool = Field(default=False, description="reviews for other organisations too")
    registration: str = Field(default="", max_length=100, description="国家平台登记号")
    term_ends_on: IsoDate = Field(description="the members' term ends (at most 5 years)")


class CommitteeUpdate(BaseModel):
    members: list[Member] = Field(min_length=1, max_length=60)
    entrusted: bool | None = None
    registration: str | None = Field(default=None, max_length=100)
    term_ends_on: IsoDate | None = None


class CommitteePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    name: str
    members: list[dict[str, Any]]
    entrusted: bool
    registration: str
    term_ends_on: date
    active: bool
    created_at: datetime


class Application(BaseModel):
    """What the applicant submits (申请材料): the plan, the ethical risks and how they are
    controlled, how personal information is protected, and for the emergency procedure why
    it is an emergency."""

    plan: str = Field(min_length=10, max_length=20_000, description="活动方案")
    risks: str = Field(min_length=10, max_length=20_000, description="伦理风险评估")
    measures: str = Field(min_length=10, max_length=20_000, description="风险防控措施")
    personal_information: str = Field(default="", max_length=20_000, description="个人信息保护")
    emergency: str = Field(default="", max_length=4000, description="应急审查的理由")


class ReviewApply(BaseModel):
    committee_id: str = Field(min_length=1, max_length=40)
    algorithm_id: str = Field(min_length=1, max_length=40)
    datasets: list[str] = Field(default_factory=list, max_length=20)
    kind: Literal["initial", "follow_up", "modification"] = "initial"
    previous_id: str | None = Field(
        default=None, max_length=40, description="the approval a follow-up or change is of"
    )
    procedure: Literal["general", "simplified", "emergency"] = "general"
    risk: Literal["minimal", "above_minimal"] = "above_minimal"
    application: Application


class MeetingRecord(BaseModel):
    """What the committee's secretariat records. Members are named by their position in the
    committee's list (from 0). The general and emergency procedures: who was ``present``, who
    withdrew for a conflict of interest (``recused``), and each present member's vote. The
    simplified procedure: the members the chair designated (``present``) and their votes."""

    held_on: IsoDate
    present: list[Place] = Field(min_length=1, max_length=60)
    recused: list[Place] = Field(default_factory=list, max_length=60)
    votes: dict[Place, Vote] = Field(max_length=60)
    conditions: str = Field(default="", max_length=4000, description="修改意见 or conditions")
    follow_up_months: int = Field(default=12, ge=1, le=12)
    minutes: str = Field(default="", max_length=20_000)


class ReReview(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=2, max_length=4000)


class Resubmission(BaseModel):
    application: Application


class ReviewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    committee_id: str
    committee_org_id: str
    org_id: str
    algorithm_id: str
    versions: list[str]
    datasets: list[str]
    kind: str
    procedure: str
    previous_id: str | None
    grounds: list[str]
    re_review: list[str]
    risk: str
    application: dict[str, str]
    status: str
    due_at: datetime
    meeting: dict[str, Any]
    decision: str | None
    conditions: str
    decided_by: str | None
    decided_at: datetime | None
    re_reviewed_by: str | None
    re_reviewed_at: datetime | None
    re_review_reason: str | None
    follow_up_months: int
    valid_until: date | None
    applied_by: str
    created_at: datetime
    ended_at: datetime | None


class Requirement(BaseModel):
    """Whether an algorithm on some data needs an ethics review, why, and what covers it."""

    algorithm_id: str
    datasets: list[str]
    grounds: list[str]
    re_review: list[str]
    approval: ReviewPublic | None
