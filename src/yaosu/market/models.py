"""The market's tables."""

from __future__ import annotations

# --- ledger ---
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yaosu.kernel.db import Base, UTCDateTime, utcnow

# The ledger (TigerBeetle's model): accounts carry their balances as four counters, transfers
# are immutable (triggers refuse UPDATE and DELETE), every amount is an integer number of fen.
# The database checks what must never happen: a zero or negative amount, a transfer from an
# account to itself, a "must not go negative" account below zero, a pending transfer posted
# or voided twice, an idempotency key used twice.


class LedgerAccount(Base):
    """One account of one participant: ``code`` says what it holds (bank, escrow, revenue,
    operator_fee, service_fee, payable, receivable); ``normal`` the side its balance grows
    on. With ``no_negative`` the database keeps that balance at or above zero, pending
    amounts included (TigerBeetle's ``debits_must_not_exceed_credits`` and its twin)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("org_id", "code", "currency", name="uq_ledger_accounts_org_code"),
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0",
            name="counters",
        ),
        CheckConstraint("normal IN ('debit', 'credit')", name="normal"),
        CheckConstraint(
            "NOT no_negative OR (normal = 'credit' AND debits_pending + debits_posted "
            "<= credits_posted) OR (normal = 'debit' AND credits_pending + credits_posted "
            "<= debits_posted)",
            name="no_negative",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    normal: Mapped[str] = mapped_column(String(6))  # debit | credit
    no_negative: Mapped[bool] = mapped_column(Boolean, default=True)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransfer(Base):
    """One movement of ``amount`` fen from ``debit_account_id`` to ``credit_account_id``,
    never changed. ``kind``: ``single`` (posted at once), ``pending`` (reserved until
    ``timeout_at``), ``post`` or ``void`` (resolving ``pending_id``: a post may move less
    than was reserved), ``reversal`` (undoing ``reverses_id``, in part or whole). Transfers
    written together in one linked batch share ``batch_id``."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint("kind IN ('single', 'pending', 'post', 'void', 'reversal')", name="kind"),
        CheckConstraint(
            "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)", name="resolves_pending"
        ),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reverses"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str | None] = mapped_column(String(80), index=True)  # an order, a bank line
    pending_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"), unique=True)
    reverses_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"), index=True)
    timeout_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SettlementStatement(Base):
    """清结算单: one participant's netted position over one clearing period (a day in China
    Standard Time), with a line per account; written once, re-runs return it."""

    __tablename__ = "ledger_statements"
    __table_args__ = (UniqueConstraint("org_id", "period", name="uq_ledger_statements_period"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    debits: Mapped[int] = mapped_column(BigInteger)
    credits: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)  # credits - debits: what the platform owes it
    postings: Mapped[int] = mapped_column(Integer)  # sides of transfers on its accounts
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    settled_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentExpectation(Base):
    """A payment the platform waits for: the payer is told to quote ``reference``
    (YSP-XXXXXXXX) in the bank transfer's memo; bank lines are matched against it."""

    __tablename__ = "ledger_expectations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    ref: Mapped[str | None] = mapped_column(String(80))  # the order it pays for
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | partial | paid
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankImport(Base):
    """One bank statement file, imported once (its SHA-256 is unique)."""

    __tablename__ = "ledger_bank_imports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    layout: Mapped[str] = mapped_column(String(10))  # icbc | ccb | abc | generic
    encoding: Mapped[str] = mapped_column(String(10))
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BankLine(Base):
    """One incoming payment of a bank statement and what it was matched to."""

    __tablename__ = "ledger_bank_lines"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    import_id: Mapped[str] = mapped_column(ForeignKey("ledger_bank_imports.id"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    counterparty: Mapped[str] = mapped_column(String(200))
    memo: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(20))
    expectation_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_expectations.id"))
    status: Mapped[str] = mapped_column(String(10))  # matched | partial | unmatched
    transfer_id: Mapped[str | None] = mapped_column(ForeignKey("ledger_transfers.id"))


# --- end ledger ---

# --- products ---

# --- end products ---
