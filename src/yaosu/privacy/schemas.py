"""Pydantic shapes of the privacy API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ScreenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    version: int
    mode: str
    rows_scanned: int
    findings: dict[str, Any]
    personal: bool
    sensitive: list[str]
    security_flags: list[str]
    grade: str
    grade_rule: str
    grade_factors: dict[str, Any]
    status: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    created_by: str
    created_at: datetime


class ScreensPublic(BaseModel):
    items: list[ScreenPublic]
    total: int


class ReviewCreate(BaseModel):
    """Confirm the proposal as it is, or correct ``personal`` / ``grade`` with a ``note``;
    ``columns`` corrects columns one by one: a screened column's name, and ``no`` (not
    personal), ``personal`` (personal, not sensitive) or its sensitive category
    (``identity_document``, ``financial_account``, ``precise_location``, ``health``,
    ``specific_identity``, ``biometric``, ``religion``, ``minor``)."""

    model_config = ConfigDict(extra="forbid")

    personal: bool | None = None
    grade: Literal["general", "important", "core"] | None = None
    note: str = Field(default="", max_length=2000)
    columns: dict[str, str] | None = Field(default=None, max_length=2000)


class DerivationPublic(BaseModel):
    id: str
    dataset_id: str
    source_version: int
    result_version: int
    recipe: dict[str, Any]
    rows_in: int
    suppressed: int
    k_reached: int | None
    l_reached: int | None
    created_at: datetime
    screen: ScreenPublic
