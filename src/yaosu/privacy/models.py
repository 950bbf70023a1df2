"""Screens: what the scanner found in a dataset version, and what a reviewer decided."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow


class Screen(Base):
    __tablename__ = "privacy_screens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8))  # fast (a sample) | full
    rows_scanned: Mapped[int] = mapped_column(BigInteger)
    # What the scanner proposes ...
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)
    personal: Mapped[bool] = mapped_column(Boolean)
    sensitive: Mapped[list[str]] = mapped_column(JSON)
    security_flags: Mapped[list[str]] = mapped_column(JSON)
    grade: Mapped[str] = mapped_column(String(12))  # general | important | core
    grade_rule: Mapped[str] = mapped_column(Text)
    grade_factors: Mapped[dict[str, Any]] = mapped_column(JSON)
    # ... and what the provider's reviewer confirmed or corrected.
    status: Mapped[str] = mapped_column(String(12), default="proposed")  # proposed | confirmed
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Derivation(Base):
    """A de-identified version and what produced it: the source version and the recipe."""

    __tablename__ = "privacy_derivations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    source_version: Mapped[int] = mapped_column(Integer)
    result_version: Mapped[int] = mapped_column(Integer)
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON)
    rows_in: Mapped[int] = mapped_column(BigInteger)
    suppressed: Mapped[int] = mapped_column(BigInteger)
    k_reached: Mapped[int | None] = mapped_column(Integer)
    l_reached: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
