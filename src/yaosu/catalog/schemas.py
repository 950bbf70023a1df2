"""Pydantic shapes of the catalog API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from yaosu.catalog.labels import FREQUENCY, OPENNESS
from yaosu.catalog.models import Frequency, Openness
from yaosu.kernel.i18n import labels_in

# The Chinese labels a client may send instead of the codes, from the registered labels.
CHINESE_OPENNESS = labels_in(OPENNESS, "zh-CN")
CHINESE_FREQUENCY = labels_in(FREQUENCY, "zh-CN")
_OPENNESS_BY_LABEL = {v: k for k, v in CHINESE_OPENNESS.items()}
_FREQUENCY_BY_LABEL = {v: k for k, v in CHINESE_FREQUENCY.items()}


def _label(labels: dict[str, Any]) -> Any:
    # Only a string can be a label; anything else goes on to the enum, which refuses it (422).
    return lambda value: labels.get(value, value) if isinstance(value, str) else value


def _code_or_label(codes: dict[Any, str], title: str) -> dict[str, Any]:
    return {"type": "string", "enum": [*map(str, codes), *codes.values()], "title": title}


# Openness and frequency accept the code (``conditional``) or the Chinese label (有条件开放).
OpennessIn = Annotated[
    Openness,
    BeforeValidator(_label(_OPENNESS_BY_LABEL)),
    WithJsonSchema(_code_or_label(CHINESE_OPENNESS, "Openness")),
]
FrequencyIn = Annotated[
    Frequency,
    BeforeValidator(_label(_FREQUENCY_BY_LABEL)),
    WithJsonSchema(_code_or_label(CHINESE_FREQUENCY, "Frequency")),
]


class DatasetCreate(BaseModel):
    """Openness and frequency accept the code (``conditional``) or the Chinese label (有条件开放)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20000)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    theme: str = Field(min_length=1, max_length=100)
    licence: str = Field(default="CC-BY-4.0", min_length=1, max_length=200)
    update_frequency: FrequencyIn = Frequency.irregular
    openness: OpennessIn = Openness.conditional

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(k.strip() for k in value if k.strip()))


class DatasetUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    keywords: list[str] | None = Field(default=None, max_length=50)
    theme: str | None = Field(default=None, min_length=1, max_length=100)
    licence: str | None = Field(default=None, min_length=1, max_length=200)
    update_frequency: FrequencyIn | None = None
    openness: OpennessIn | None = None


class ColumnProfile(BaseModel):
    name: str
    type: str
    kind: str
    nulls: int
    null_ratio: float
    distinct_estimate: int | None = None
    range: dict[str, Any] | None = None
    length: dict[str, Any] | None = None
    mean: float | None = None
    top: list[dict[str, Any]] = Field(default_factory=list)
    # True when the values (range, mean, frequent values, distinct count) stay with the
    # provider: a personal, sensitive or identifier column, or no confirmed screen yet.
    withheld: bool = False


class VersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    dataset_id: str
    number: int
    sha256: str
    size_bytes: int
    row_count: int
    source_filename: str
    source_sha256: str
    source_bytes: int
    source_format: str
    source_encoding: str | None
    source_delimiter: str | None
    columns: list[ColumnProfile]
    ingest_seconds: float
    created_by: str
    created_at: datetime


class DatasetPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    owner_org_id: str
    publisher: str
    title: str
    description: str
    keywords: list[str]
    theme: str
    licence: str
    update_frequency: str
    openness: str
    openness_label: str
    latest_version: int
    created_at: datetime
    updated_at: datetime


class Facet(BaseModel):
    value: str
    label: str
    count: int


class DatasetsPublic(BaseModel):
    items: list[DatasetPublic]
    total: int
    limit: int
    offset: int
    facets: dict[str, list[Facet]]


class VersionsPublic(BaseModel):
    items: list[VersionPublic]
    total: int


class Preview(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    total_rows: int


MAX_DOMAIN_VALUES = 1000  # a public domain is a list of categories, not a column's contents


class ColumnEntryIn(BaseModel):
    """One column's dictionary entry, as its provider writes it. A field left out stays as it
    was; ``domain`` null clears the public domain; ``domain_from_data`` takes every value of
    the latest version as the public domain (the provider says they are public knowledge)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    column: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    unit: str | None = Field(default=None, max_length=50)
    domain: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=MAX_DOMAIN_VALUES
    )
    domain_from_data: bool = False
    lower: float | None = Field(default=None, allow_inf_nan=False)
    upper: float | None = Field(default=None, allow_inf_nan=False)


class DictionaryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[ColumnEntryIn] = Field(min_length=1, max_length=2000)


class ColumnEntryPublic(BaseModel):
    column: str
    type: str
    description: str
    unit: str
    domain: list[Any] | None
    lower: float | None
    upper: float | None
    # Whether a public domain may be declared: the confirmed screen found neither personal
    # information nor an identifier in the column.
    may_be_public: bool
    updated_by: str | None = None
    updated_at: datetime | None = None
