"""The three data property rights as separate grants, their registration with public notice
and objections, and the certificates that registration ends in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow
from yaosu.rights.states import GrantState, ObjectionState, RegistrationState

# 数据资源持有权 · 数据加工使用权 · 数据产品经营权
KINDS = ("holding", "processing", "operation")
SOURCES = ("original", "licence", "transfer", "derivation")


class Grant(Base):
    """One right over one object, held by one organisation, within a scope. ``parent_id``
    is the right it was licensed or transferred from: following it gives the chain of title."""

    __tablename__ = "right_grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # holding | processing | operation
    object_type: Mapped[str] = mapped_column(String(20))  # dataset
    object_id: Mapped[str] = mapped_column(String(40), index=True)
    object_version: Mapped[int] = mapped_column()
    object_sha256: Mapped[str] = mapped_column(String(64))  # what exactly the right is over
    holder_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    grantor_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("right_grants.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))  # original | licence | transfer | derivation
    purposes: Mapped[list[str]] = mapped_column(JSON)  # [] means every purpose
    territory: Mapped[str] = mapped_column(String(100), default="CN")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=GrantState.pending, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Registration(Base):
    """登记: application, acceptance, formal review, public notice, then code and certificate."""

    __tablename__ = "right_registrations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("right_grants.id"), unique=True)
    applicant_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    applied_by: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)  # how the right arose, what it covers
    status: Mapped[str] = mapped_column(String(12), default=RegistrationState.applied, index=True)
    notice_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Objection(Base):
    """异议: filed by any organisation during the notice window; an open one blocks."""

    __tablename__ = "right_objections"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("right_registrations.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    filed_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=ObjectionState.open)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Certificate(Base):
    """The signed certificate of a registration: the document, exactly as signed, and its
    Ed25519 signature by the platform's certificate key."""

    __tablename__ = "right_certificates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("right_registrations.id"), unique=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))  # the verifier key that checks it
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
