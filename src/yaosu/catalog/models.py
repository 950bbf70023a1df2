"""Datasets, their immutable versions, and the search index."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow


class Openness(StrEnum):
    open = "open"  # 无条件开放
    conditional = "conditional"  # 有条件开放
    closed = "closed"  # 不予开放


class Frequency(StrEnum):
    continuous = "continuous"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    annual = "annual"
    irregular = "irregular"


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme: Mapped[str] = mapped_column(String(100), index=True)
    licence: Mapped[str] = mapped_column(String(200))
    update_frequency: Mapped[str] = mapped_column(String(20))
    openness: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    # The newest version whose privacy screen a reviewer confirmed clean (no personal
    # information, no public-security flag); others may read rows of that version only.
    clean_version: Mapped[int | None] = mapped_column(Integer)


class DatasetVersion(Base):
    """One immutable upload, stored as Parquet in the content-addressed store."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the stored Parquet
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    source_filename: Mapped[str] = mapped_column(String(300))
    source_sha256: Mapped[str] = mapped_column(String(64))
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    source_format: Mapped[str] = mapped_column(String(20))
    source_encoding: Mapped[str | None] = mapped_column(String(20))
    source_delimiter: Mapped[str | None] = mapped_column(String(4))
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # schema + profile per column
    ingest_seconds: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchTerm(Base):
    """Inverted index: CJK characters and bigrams, Latin words. Portable to every backend."""

    __tablename__ = "search_terms"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    weight: Mapped[float] = mapped_column(Float)


class ColumnEntry(Base):
    """The data dictionary: what a column means, in the provider's words, and what about it
    is public knowledge (its list of values, its range). Keyed by name, so an entry outlives
    the versions that carry the column."""

    __tablename__ = "column_dictionary"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    column: Mapped[str] = mapped_column(String(300), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(50), default="")
    # The public domain: every value the column can take, as the provider publishes it (the
    # list of towns, of insurance kinds). Differentially private answers release every one of
    # these groups, with noise and no threshold. None: not declared (the values are private).
    domain: Mapped[list[Any] | None] = mapped_column(JSON)
    # Public bounds of a numeric column (a fee schedule's range): the query page proposes
    # them as the clamping bounds of SUM and AVG.
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
