"""Purposes, access requests, their reviews, and the contracts (授权协议) they end in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.authorization.states import ContractState, RequestState, ReviewState
from yaosu.kernel.db import Base, UTCDateTime, utcnow

PRICING = ("free", "capped", "market")


class Purpose(Base):
    """One entry of the purpose taxonomy (用途), and the pricing class it implies."""

    __tablename__ = "purposes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    pricing: Mapped[str] = mapped_column(String(12))  # free | capped | market
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    requester_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(ForeignKey("purposes.code"))
    # {dataset_id: [fields]}: the datasets and, for each, the fields wanted
    datasets: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    # {alias: dataset_id}: the names its datasets take in governed SQL (authorization.aliases)
    aliases: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    operations: Mapped[list[str]] = mapped_column(JSON)  # Operation values
    algorithm: Mapped[str | None] = mapped_column(String(200))  # for compute-to-data
    models: Mapped[bool] = mapped_column(default=False)  # a trained model may leave a job
    days: Mapped[int] = mapped_column(Integer)  # how long the use should last
    max_uses: Mapped[int | None] = mapped_column(Integer)
    epsilon: Mapped[float | None] = mapped_column(Float)
    justification: Mapped[str] = mapped_column(Text)
    territory: Mapped[str] = mapped_column(String(100), default="CN")
    status: Mapped[str] = mapped_column(String(12), default=RequestState.submitted, index=True)
    pricing: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # reviews are due by then
    contract_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Review(Base):
    """One organisation's review of a request, required by a routing rule."""

    __tablename__ = "access_reviews"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_requests.id"), index=True)
    reviewer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))  # provider | personal | important | industry
    status: Mapped[str] = mapped_column(String(12), default=ReviewState.pending, index=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Contract(Base):
    """A usage policy and its parties: what the consumer may do, within which limits, what it
    owes and what it must never do. ``uses`` and ``epsilon_spent`` are debited in the same
    transaction as the decision that consumes them."""

    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    consumer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    provider_org_ids: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(40))
    operations: Mapped[list[str]] = mapped_column(JSON)  # Operation values
    datasets: Mapped[dict[str, list[str]]] = mapped_column(JSON)  # {dataset_id: [fields]}
    # {alias: dataset_id}: copied from the request when the contract is made, never renamed
    aliases: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {dataset_id: {column: "hash" | "mask"}}: columns usable only masked
    masks: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    # {dataset_id: predicate}: the rows usable, a boolean SQL expression over allowed columns
    row_filters: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    algorithm: Mapped[str | None] = mapped_column(String(200))
    # A compute job may release a trained model (a model can memorise its training rows:
    # only when the request asked and the reviewers granted it, and a person still checks it).
    models: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)  # None: no count limit
    uses: Mapped[int] = mapped_column(Integer, default=0)
    min_group_size: Mapped[int | None] = mapped_column(Integer)
    epsilon_budget: Mapped[float | None] = mapped_column(Float)  # None: no DP budget
    epsilon_spent: Mapped[float] = mapped_column(Float, default=0.0)
    delta: Mapped[float | None] = mapped_column(Float)
    territory: Mapped[str] = mapped_column(String(100), default="CN")
    duties: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    prohibitions: Mapped[list[str]] = mapped_column(JSON, default=list)
    pricing: Mapped[str] = mapped_column(String(12))
    # a ContractState but "expired", which is read from ends_at (see contracts.status_of)
    status: Mapped[str] = mapped_column(String(12), default=ContractState.active, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Both parties accept. Each provider's acceptance is its approving review:
    # [{"org": org id, "by": user id, "at": ISO 8601}], copied when the contract is made.
    provider_acceptances: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The consumer's: who accepted the terms for it, and when (the term starts then).
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
