"""Pydantic shapes of governed queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class QueryCreate(BaseModel):
    contract_id: str = Field(max_length=40)
    sql: str = Field(min_length=1, max_length=20_000)
    epsilon: float = Field(default=0.0, ge=0, le=10)
    # {column: [lower, upper]}: where the values of a SUM or AVG are clamped (DP)
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    engine: Literal["duckdb", "spark"] | None = None


class QueryEstimate(BaseModel):
    """A query to forecast: its cost and accuracy before it runs, and, given a target ± for
    one output column, the smallest ε that meets it."""

    contract_id: str = Field(max_length=40)
    sql: str = Field(min_length=1, max_length=20_000)
    epsilon: float = Field(default=0.0, ge=0, le=10)
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    target_column: str | None = Field(default=None, max_length=300)
    target: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class EstimatePublic(BaseModel):
    epsilon: float
    measures: int
    # per output column: kind (count | sum | avg), ci95 and, for an average, the group size
    # it is stated at
    outputs: dict[str, dict[str, Any]]
    threshold: int | None
    partitions: int | None
    rows: int | None
    epsilon_left: float | None
    units: dict[str, str]
    suggested_epsilon: float | None
    target_column: str | None
    target: float | None


class QueryRunPublic(BaseModel):
    id: str
    contract_id: str
    sql: str
    query_sha256: str
    epsilon: float
    delta: float
    engine: str
    aggregate: bool
    row_count: int
    columns: list[str]
    rows: list[list[Any]] | None
    accuracy: dict[str, Any]
    created_by: str
    created_at: datetime


class QueryAnswer(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    aggregate: bool
    epsilon: float
    delta: float
    accuracy: dict[str, dict[str, float]]
    threshold: int | None
    min_group_size: int | None
    query_sha256: str
    rewritten_sha256: str
    engine: str
    uses: int
    max_uses: int | None
    epsilon_left: float | None
    partitions: int | None = None
    cells: list[list[float | None]] = Field(default_factory=list)
    noise: list[list[bool]] = Field(default_factory=list)
    units: dict[str, str] = Field(default_factory=dict)
    run_id: str | None = None


class ExtractCreate(BaseModel):
    dataset_id: str = Field(max_length=40)
    format: Literal["parquet", "csv"] = "parquet"


class ExtractPublic(BaseModel):
    id: str
    contract_id: str
    dataset_id: str
    version: int
    format: str
    sha256: str
    size_bytes: int
    rows: int
    manifest: dict[str, Any]
    download: str
