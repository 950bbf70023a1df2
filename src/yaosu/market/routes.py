"""HTTP routes of the market domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["market"])

# --- ledger ---
from datetime import date  # noqa: E402
from typing import Annotated  # noqa: E402

from fastapi import Body, Query  # noqa: E402

from yaosu.market import bank, settlement  # noqa: E402
from yaosu.market.schemas import (  # noqa: E402
    BankImportPublic,
    BankLinePublic,
    ReconciliationPublic,
    SettlementRun,
    StatementPublic,
)
from yaosu.web.deps import ContextDep, CurrentActor, SessionDep  # noqa: E402


@router.get("/market/statements", response_model=list[StatementPublic])
def statements(
    actor: CurrentActor,
    session: SessionDep,
    org_id: Annotated[str | None, Query(max_length=40)] = None,
    period: date | None = None,
) -> list[StatementPublic]:
    """Settlement statements you may see: your organisation's, and for the platform and
    regulators everyone's; newest day first."""
    found = settlement.list_statements(session, actor, org_id=org_id, period=period)
    return [StatementPublic.model_validate(s) for s in found]


@router.get("/market/statements/{statement_id}", response_model=StatementPublic)
def statement(statement_id: str, actor: CurrentActor, session: SessionDep) -> StatementPublic:
    return StatementPublic.model_validate(
        settlement.get_statement(session, actor, statement_id=statement_id)
    )


@router.post("/market/settlements", response_model=list[StatementPublic])
def settle(
    body: SettlementRun, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> list[StatementPublic]:
    """Clear a day (platform administrators): the statements of every participant that moved
    money that day; a settled day answers with the statements it has."""
    made = settlement.settle(
        session, actor, lag_days=ctx.settings.settlement_lag_days, period=body.period
    )
    return [StatementPublic.model_validate(s) for s in made]


@router.get("/market/reconciliation", response_model=ReconciliationPublic)
def reconciliation(
    actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> ReconciliationPublic:
    """Ledger = statements = bank, for the platform and regulators."""
    report = settlement.reconciliation(session, actor, lag_days=ctx.settings.settlement_lag_days)
    return ReconciliationPublic(**report)


@router.post("/market/bank-imports", response_model=BankImportPublic, status_code=201)
def import_bank_statement(
    actor: CurrentActor,
    session: SessionDep,
    data: Annotated[bytes, Body(media_type="text/csv")],
    filename: Annotated[str, Query(min_length=1, max_length=200)] = "statement.csv",
) -> BankImportPublic:
    """Import a bank statement CSV (the raw body; GBK or UTF-8; ICBC, CCB, ABC or the plain
    layout) and match its incoming payments: matched, partial, unmatched. The same file
    twice is refused; a malformed row refuses the file with its row number."""
    done = bank.import_statement(session, actor, data=data, filename=filename)
    out = BankImportPublic.model_validate(done)
    out.lines = [
        BankLinePublic.model_validate(x) for x in bank.lines_of(session, import_id=done.id)
    ]
    return out


@router.get("/market/bank-imports/{import_id}", response_model=BankImportPublic)
def bank_statement(import_id: str, actor: CurrentActor, session: SessionDep) -> BankImportPublic:
    """An imported bank statement and its lines (the platform and regulators)."""
    found = bank.get_import(session, actor, import_id=import_id)
    out = BankImportPublic.model_validate(found)
    out.lines = [
        BankLinePublic.model_validate(x) for x in bank.lines_of(session, import_id=found.id)
    ]
    return out


# --- end ledger ---

# --- products ---

# --- end products ---
