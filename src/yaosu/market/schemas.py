"""The market's API bodies and answers."""

from __future__ import annotations

# --- ledger ---
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StatementLine(BaseModel):
    account: str
    code: str
    debits: int
    credits: int


class StatementPublic(BaseModel):
    """A participant's settlement statement for one day (China Standard Time); amounts in
    fen, ``net`` = credits - debits: what the platform owes the participant for the day."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    org_id: str
    period: date
    debits: int
    credits: int
    net: int
    postings: int
    lines: list[StatementLine]
    settled_by: str
    created_at: datetime


class SettlementRun(BaseModel):
    period: date | None = Field(
        default=None, description="the day to settle; default: the latest clearable (T+lag)"
    )


class BankLinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    row: int
    booked_on: date
    amount: int
    counterparty: str
    memo: str
    reference: str | None
    status: str
    transfer_id: str | None


class BankImportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    layout: str
    encoding: str
    rows: int
    imported_by: str
    created_at: datetime
    lines: list[BankLinePublic] = []


class ReconciliationPublic(BaseModel):
    """Ledger = statements = bank: ``ok`` when every account's counters equal its transfers,
    all debits equal all credits, every settled day's statements equal its transfers, and
    every matched bank line has its transfer (and no such transfer lacks its line)."""

    ok: bool
    accounts: int
    account_problems: list[dict[str, Any]]
    debits: int
    credits: int
    periods: list[str]
    settled_net: int
    statement_problems: list[dict[str, Any]]
    unsettled: list[str]
    bank_lines: int
    bank_received: int
    bank_problems: list[dict[str, Any]]
    unmatched: list[dict[str, Any]]
    unmatched_amount: int


# --- end ledger ---

# --- products ---

# --- end products ---
