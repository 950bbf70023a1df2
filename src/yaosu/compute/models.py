"""The compute domain's tables: filed algorithms and their versions (the code, by hash), the
filings made for them, each provider's trusted list, and compute-to-data jobs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.compute.states import FilingState, JobState
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
