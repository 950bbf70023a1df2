"""The console's query page: write SQL under a contract, see the answer, its cost and its
accuracy, with a chart."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from yaosu.access import service
from yaosu.authorization import service as authorization
from yaosu.catalog import service as catalog
from yaosu.console.render import render
from yaosu.kernel.errors import InvalidInput, YaosuError
from yaosu.kernel.i18n import _
from yaosu.web.deps import ContextDep, PageActor, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)


def _context(ctx: ContextDep, actor: PageActor, contract_id: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=contract_id)
        known = catalog.dataset_titles(session, ids=contract.datasets)
        titles = {d: known.get(d, d) for d in contract.datasets}
        return {
            "c": contract,
            "state": authorization.status_of(contract),
            "titles": titles,
            "example": _example(contract),
        }


def _example(contract: object) -> str:
    datasets = getattr(contract, "datasets", {})
    if not datasets:
        return ""
    dataset_id, fields = next(iter(datasets.items()))
    key = fields[0] if fields else "*"
    return f'SELECT "{key}", COUNT(*) AS n FROM {dataset_id} GROUP BY "{key}"'


@router.get("/query")
def query_page(
    request: Request,
    actor: PageActor,
    ctx: ContextDep,
    contract: Annotated[str, Query(max_length=40)],
) -> Response:
    page = _context(ctx, actor, contract)
    return render(
        request,
        actor,
        "query.html",
        **page,
        sql=page["example"],
        epsilon="0.1",
        bounds="",
        answer=None,
        error=None,
    )


@router.post("/query")
async def run(
    request: Request,
    actor: PageActor,
    ctx: ContextDep,
    contract: Annotated[str, Form(max_length=40)],
    sql: Annotated[str, Form(max_length=20_000)] = "",
    epsilon: Annotated[str, Form(max_length=10)] = "0",
    bounds: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    answer, error = None, None
    try:
        parsed: dict[str, tuple[float, float]] = {}
        for line in bounds.replace("；", "\n").replace(";", "\n").splitlines():
            if not line.strip():
                continue
            try:
                column, span = line.rsplit("=", 1)
                low, high = span.split(":")
                parsed[column.strip()] = (float(low), float(high))
            except ValueError as exc:
                raise InvalidInput(
                    problem=_("write bounds as COLUMN=LOW:HIGH: {line}", line=line)
                ) from exc
        try:
            eps = float(epsilon or 0)
        except ValueError as exc:
            raise InvalidInput(problem=_("ε must be a number: {epsilon}", epsilon=epsilon)) from exc
        answer = await run_in_threadpool(
            service.run_query,
            ctx,
            actor,
            contract_id=contract,
            query=sql,
            epsilon=eps,
            bounds=parsed,
        )
    except YaosuError as exc:
        if exc.status == 404:  # the contract itself is hidden: the error page says so, once
            raise
        await run_in_threadpool(audit_refusal, request, exc)  # a write: off the event loop
        error = exc.message(locale(request))
    page = await run_in_threadpool(_context, ctx, actor, contract)
    chart: dict[str, Any] | None = None
    if answer is not None and answer.rows and len(answer.columns) >= 2:
        numeric = [
            i
            for i, v in enumerate(answer.rows[0])
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if numeric and numeric[0] != 0:
            # Serialised by the template's |tojson (aliases and grouped values are data).
            chart = {
                "labels": [str(r[0]) for r in answer.rows[:50]],
                "values": [r[numeric[0]] for r in answer.rows[:50]],
                "name": answer.columns[numeric[0]],
            }
    return render(
        request,
        actor,
        "query.html",
        status=200 if error is None else 422,
        **page,
        sql=sql,
        epsilon=epsilon,
        bounds=bounds,
        answer=answer,
        chart=chart,
        error=error,
    )
