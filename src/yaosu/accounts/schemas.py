"""Pydantic shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class OrgCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kinds: list[str] = Field(min_length=1)
    department: str | None = Field(default=None, max_length=100)
    uscc: str | None = Field(default=None, max_length=18)


class OrgPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kinds: list[str]
    department: str | None
    uscc: str | None
    created_at: datetime


class OrgsPublic(BaseModel):
    items: list[OrgPublic]
    total: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    role: str = "member"
    display_name: str | None = Field(default=None, max_length=100)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    org_id: str
    username: str
    display_name: str
    role: str
    is_active: bool
    created_at: datetime


class UsersPublic(BaseModel):
    items: list[UserPublic]
    total: int


class Me(BaseModel):
    user: UserPublic
    org: OrgPublic
    csrf_token: str | None = None
    via: str


Scope = Literal["read", "write", "admin"]  # as accounts.service.SCOPES; the schema states them
_READ_ONLY: list[Scope] = ["read"]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(
        default_factory=lambda: _READ_ONLY.copy(), min_length=1, max_length=3
    )
    days: int | None = Field(
        default=None, ge=1, le=366, description="default: YAOSU_TOKEN_DAYS_DEFAULT"
    )


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    secret: str = Field(description="shown once; store it now")


class TokensPublic(BaseModel):
    items: list[TokenPublic]
    total: int


class BothLanguages(BaseModel):
    zh: str
    en: str


class DutyPublic(BaseModel):
    """One duty of a part: its code, the code of the rule it cites, and both as text."""

    duty: str
    rule: str
    text: BothLanguages
    rule_text: BothLanguages


class AlgorithmNamed(BaseModel):
    """The algorithm an algorithm provider answers for; ``id`` and ``filing_number`` are None
    when the contract names one that is not filed."""

    id: str | None
    name: str | None
    filing_number: str | None


class ResponsibilityPublic(BaseModel):
    """One part of the responsibility boundaries (责任边界): who it is and what it answers for
    (``accounts.service.boundaries``). ``org_id`` is None for a product's buyer-to-be."""

    part: Literal["provider", "seller", "operator", "algorithm_provider", "consumer"]
    org_id: str | None
    org_name: str | None
    part_text: BothLanguages
    duties: list[DutyPublic]
    algorithm: AlgorithmNamed | None = None
