"""Console pages of the market domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)

# --- ledger ---
# Settlement statements (a participant's own; the platform's and regulators' all), and for
# the platform the reconciliation with the bank statement import and the clearing run.
from datetime import date  # noqa: E402
from typing import Annotated  # noqa: E402

from fastapi import File, Form, Request, UploadFile  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from yaosu.accounts import service as accounts  # noqa: E402
from yaosu.authorization.policy import decide, enforce  # noqa: E402
from yaosu.console.render import back_with_error, done, render  # noqa: E402
from yaosu.kernel.errors import InvalidInput, YaosuError  # noqa: E402
from yaosu.kernel.i18n import _  # noqa: E402
from yaosu.market import bank, ledger, settlement  # noqa: E402
from yaosu.web.deps import ContextDep, PageActor, SessionDep  # noqa: E402


@router.get("/market/statements")
def statements_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    org: str | None = None,
) -> Response:
    found = settlement.list_statements(session, actor, org_id=org or None)
    return render(
        request,
        actor,
        "ledger_statements.html",
        statements=found,
        names=accounts.org_names(session),
        fen=ledger.yuan,
        can={"ledger.reconcile": decide(actor, "ledger.reconcile", settlement.LEDGER).allowed},
    )


@router.get("/market/reconciliation")
def reconciliation_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    report = settlement.reconciliation(session, actor, lag_days=ctx.settings.settlement_lag_days)
    return render(
        request,
        actor,
        "ledger_reconciliation.html",
        report=report,
        imports=bank.imports(session),
        expected=bank.expectations(session, open_only=True),
        names=accounts.org_names(session),
        latest=settlement.last_clearable(lag_days=ctx.settings.settlement_lag_days),
        lag=ctx.settings.settlement_lag_days,
        fen=ledger.yuan,
        error=error,
        can={
            "ledger.import": decide(actor, "ledger.import", settlement.LEDGER).allowed,
            "ledger.settle": decide(actor, "ledger.settle", settlement.LEDGER).allowed,
        },
    )


@router.post("/market/bank-imports")
def bank_import_form(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    try:
        enforce(actor, "ledger.import", settlement.LEDGER)
        if file is None or not file.filename:
            raise InvalidInput(problem=_("choose the bank statement file (CSV)"))
        data = file.file.read(bank.MAX_FILE_BYTES + 1)
        with session.begin_nested():
            bank.import_statement(session, actor, data=data, filename=file.filename)
    except YaosuError as exc:
        return back_with_error(request, "/market/reconciliation", exc, session=session)
    return done("/market/reconciliation", "ledger.imported")


@router.post("/market/settlements")
def settle_form(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    period: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        enforce(actor, "ledger.settle", settlement.LEDGER)
        try:
            day = date.fromisoformat(period) if period else None
        except ValueError as exc:
            raise InvalidInput(problem=_("{value} is not a date", value=period)) from exc
        with session.begin_nested():
            settlement.settle(session, actor, lag_days=ctx.settings.settlement_lag_days, period=day)
    except YaosuError as exc:
        return back_with_error(request, "/market/reconciliation", exc, session=session)
    return done("/market/statements", "ledger.settled")


# --- end ledger ---

# --- products ---

# --- end products ---
