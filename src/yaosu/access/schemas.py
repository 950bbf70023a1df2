"""Pydantic shapes of governed queries."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class QueryCreate(BaseModel):
    contract_id: str = Field(max_length=40)
    sql: str = Field(min_length=1, max_length=20_000)
    epsilon: float = Field(default=0.0, ge=0, le=10)
    # {column: [lower, upper]}: where the values of a SUM or AVG are clamped (DP)
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    engine: Literal["duckdb", "spark"] | None = None


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
