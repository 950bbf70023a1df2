"""The compute domain's tables: filed algorithms and their versions (the code, by hash), the
filings made for them, each provider's trusted list, compute-to-data jobs, and the ethics
committees and reviews (科技伦理审查) an algorithm's use may need."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.compute.states import FilingState, JobState, ReviewState
from yaosu.kernel.db import Base, UTCDateTime, utcnow


class Algorithm(Base):
    """What is filed (算法备案, Art. 24): who provides it, in what service form and field, of
    which type, who answers for its safety, the self-assessment, and the text published once it
    is filed (basic principle, purpose, main operating mechanism). ``uses`` and ``subjects``
    declare what it does and to whom, from the platform's vocabulary: the red lines are matched
    against them. ``status`` is the state of its latest filing."""

    __tablename__ = "compute_algorithms"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    algorithm_type: Mapped[str] = mapped_column(String(20))
    service_form: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(200))
    uses: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    responsible: Mapped[dict[str, str]] = mapped_column(
        JSON
    )  # 算法安全责任人: name, title, contact
    self_assessment: Mapped[str] = mapped_column(Text)
    public_text: Mapped[dict[str, str]] = mapped_column(JSON)  # principle, purpose, mechanism
    status: Mapped[str] = mapped_column(String(16), default=FilingState.SUBMITTED, index=True)
    filing_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    sha256: Mapped[str] = mapped_column(String(64))  # the current version's
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AlgorithmVersion(Base):
    """One version of an algorithm's code: the bundle's files (each by SHA-256, kept in the
    content store), its entry point, runtime, parameter schema and declared output kinds; its
    ``sha256`` hashes all of that, and is what providers trust and jobs name."""

    __tablename__ = "compute_algorithm_versions"
    __table_args__ = (UniqueConstraint("algorithm_id", "number", name="uq_algorithm_version"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    algorithm_id: Mapped[str] = mapped_column(ForeignKey("compute_algorithms.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    entry: Mapped[str] = mapped_column(String(200))
    runtime: Mapped[str] = mapped_column(String(60))
    outputs: Mapped[list[str]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)  # a JSON Schema
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # path, sha256, bytes
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlgorithmFiling(Base):
    """One filing act: the first filing, a change (Art. 25: within 10 working days of it) or a
    deregistration (within 20 working days of the service ending); the filing department
    decides within 30 working days of receiving it (Art. 26). ``due_on`` is that last day,
    counted in China's working days; ``provisional`` when the calendar has no data yet for a
    year the count reaches (Monday to Friday counted then)."""

    __tablename__ = "compute_filings"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    algorithm_id: Mapped[str] = mapped_column(ForeignKey("compute_algorithms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # filing | change | deregistration
    version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=FilingState.SUBMITTED, index=True)
    event_on: Mapped[date] = mapped_column(Date)  # service start, change, or end
    submit_by: Mapped[date] = mapped_column(Date)  # the provider's deadline (10 / 20 days)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    due_on: Mapped[date] = mapped_column(Date, index=True)  # the department's (30 days)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedAlgorithm(Base):
    """A provider's trusted list (Ocean Protocol's): this algorithm version, by hash, may run
    on this dataset. Empty by default; revoking keeps the row."""

    __tablename__ = "compute_trusted"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    algorithm_id: Mapped[str] = mapped_column(ForeignKey("compute_algorithms.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ComputeJob(Base):
    """One run of one algorithm version on the data one contract grants. ``inputs`` records
    what the sandbox was given (dataset, version, rows, the granted columns, the Parquet's
    hash); ``outcome`` what the sandbox said; ``check`` the output check's report; ``outputs``
    what was released (each file in the content store by hash); ``log`` the checked log."""

    __tablename__ = "compute_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    consumer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    provider_org_ids: Mapped[list[str]] = mapped_column(JSON)
    algorithm_id: Mapped[str] = mapped_column(ForeignKey("compute_algorithms.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    datasets: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=JobState.AWAITING_APPROVAL, index=True)
    status_reason: Mapped[dict[str, str] | None] = mapped_column(JSON)  # {"zh": …, "en": …}
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    runtime: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    check: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    log: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[float] = mapped_column(default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    task_id: Mapped[str | None] = mapped_column(String(40))
    phase_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleaned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the ethics approval the job runs under, when its algorithm and data need one
    ethics_review_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # under a contract with a privacy budget: the ε its differentially private release spends
    epsilon: Mapped[float | None] = mapped_column(Float)


class EthicsCommittee(Base):
    """A 科技伦理（审查）委员会 (科技伦理审查办法（试行）Art. 4–9): the organisation that sets it
    up, its members (each: ``name``, ``expertise`` — technical, ethics, legal or other —,
    ``gender``, ``external`` to the organisation, ``affiliation``, ``chair``), checked against
    Art. 7 when it is set up or changed. ``entrusted``: it reviews for organisations without a
    committee of their own (Art. 4, 委托审查)."""

    __tablename__ = "compute_ethics_committees"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    members: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    entrusted: Mapped[bool] = mapped_column(Boolean, default=False)
    registration: Mapped[str] = mapped_column(String(100), default="")  # 国家平台登记号
    term_ends_on: Mapped[date] = mapped_column(Date)  # a member's term is at most 5 years
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EthicsReview(Base):
    """One ethics review of an algorithm for the data it is to run on: the first review, a
    follow-up (跟踪审查, at least every 12 months) or a review of a modification; by the
    general, simplified or emergency procedure. ``grounds`` are why a review is needed and
    ``re_review`` the items of the list of activities that need expert re-review (专家复核),
    both decided by the policy when the review is applied for. ``meeting`` is what the
    committee recorded (who was present, who withdrew, each vote); ``valid_until`` the last
    day the approval holds without a follow-up."""

    __tablename__ = "compute_ethics_reviews"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    committee_id: Mapped[str] = mapped_column(
        ForeignKey("compute_ethics_committees.id"), index=True
    )
    committee_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)  # applicant
    algorithm_id: Mapped[str] = mapped_column(ForeignKey("compute_algorithms.id"), index=True)
    versions: Mapped[list[str]] = mapped_column(JSON)  # the versions' SHA-256 it covers
    datasets: Mapped[list[str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(16))  # initial | follow_up | modification
    procedure: Mapped[str] = mapped_column(String(12))  # general | simplified | emergency
    previous_id: Mapped[str | None] = mapped_column(String(40), index=True)
    grounds: Mapped[list[str]] = mapped_column(JSON)
    re_review: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk: Mapped[str] = mapped_column(String(16))  # minimal | above_minimal
    application: Mapped[dict[str, str]] = mapped_column(JSON)  # plan, risks, measures, …
    status: Mapped[str] = mapped_column(String(16), default=ReviewState.SUBMITTED, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    meeting: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision: Mapped[str | None] = mapped_column(String(24))
    conditions: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    re_reviewed_by: Mapped[str | None] = mapped_column(String(64))
    re_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    re_review_reason: Mapped[str | None] = mapped_column(Text)
    follow_up_months: Mapped[int] = mapped_column(Integer, default=12)
    valid_until: Mapped[date | None] = mapped_column(Date, index=True)
    applied_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
