"""The console's query page: write SQL under a contract, see beforehand what the answer will
cost and how accurate it will be, run it, read the answer in plain numbers with their ±,
chart it, and find earlier answers again (history, export). And, for the request form, the
accuracy a typical answer would have at the ε asked for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from yaosu.access import history, service
from yaosu.authorization import service as authorization
from yaosu.catalog import dictionary
from yaosu.catalog import service as catalog
from yaosu.console.render import render
from yaosu.kernel.errors import InvalidInput, NotFound, YaosuError
from yaosu.kernel.i18n import _
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)

HISTORY_SHOWN = 10


def _context(ctx: ContextDep, actor: PageActor, contract_id: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        contract = authorization.get_contract(session, actor, contract_id=contract_id)
        known = catalog.dataset_titles(session, ids=contract.datasets)
        titles = {d: known.get(d, d) for d in contract.datasets}
        columns: dict[str, list[Any]] = {}
        for dataset_id, fields in contract.datasets.items():
            try:
                entries = dictionary.entries(session, actor, dataset_id=dataset_id)
            except NotFound:
                entries = []
            by_name = {e.column: e for e in entries}
            columns[dataset_id] = [by_name[f] for f in fields if f in by_name]
        runs = history.list_runs(session, actor, contract_id=contract_id, limit=HISTORY_SHOWN)
        names = {d: a for a, d in (contract.aliases or {}).items()}
        return {
            "c": contract,
            "state": authorization.status_of(contract),
            "titles": titles,
            "names": {d: names.get(d, d) for d in contract.datasets},
            "columns": columns,
            "example": _example(contract, columns),
            "runs": runs,
        }


def _example(contract: Any, columns: dict[str, list[Any]]) -> str:
    """A first query worth running: grouped by a column whose values are public (every group
    is released), with the average of a numeric column that has public bounds; the table is
    named by the contract's alias for it (its id when it has none)."""
    datasets = getattr(contract, "datasets", {})
    if not datasets:
        return ""
    dataset_id, fields = next(iter(datasets.items()))
    aliases = getattr(contract, "aliases", None) or {}
    table = next((a for a, d in aliases.items() if d == dataset_id), dataset_id)
    entries = columns.get(dataset_id, [])
    key = next((e.column for e in entries if e.domain), fields[0] if fields else None)
    measure = next((e.column for e in entries if e.lower is not None and e.column != key), None)
    if key is None:
        return f"SELECT COUNT(*) AS n FROM {table}"
    average = f', AVG("{measure}") AS "平均{measure}"' if measure else ""
    return f'SELECT "{key}", COUNT(*) AS n{average} FROM {table} GROUP BY "{key}"'


def _parse_bounds(text: str) -> dict[str, tuple[float, float]]:
    parsed: dict[str, tuple[float, float]] = {}
    for line in text.replace("；", "\n").replace(";", "\n").splitlines():
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
    return parsed


def _number(text: str, *, what: object) -> float:
    try:
        return float(text or 0)
    except ValueError as exc:
        raise InvalidInput(
            problem=_("{what} must be a number: {value}", what=what, value=text)
        ) from exc


@router.get("/query")
def query_page(
    request: Request,
    actor: PageActor,
    ctx: ContextDep,
    contract: Annotated[str, Query(max_length=40)],
    run: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    page = _context(ctx, actor, contract)
    sql, epsilon, bounds = page["example"], "0.1", ""
    if run:  # "run again": the earlier query back in the form
        with ctx.db.transaction() as session:
            earlier = history.get_run(session, actor, run_id=run)
        sql, epsilon = earlier.sql, format(earlier.epsilon, "g")
    return render(
        request,
        actor,
        "query.html",
        **page,
        sql=sql,
        epsilon=epsilon,
        bounds=bounds,
        target="",
        answer=None,
        error=None,
    )


@router.post("/query/estimate")
async def estimate_fragment(
    request: Request,
    actor: PageActor,
    ctx: ContextDep,
    contract: Annotated[str, Form(max_length=40)],
    sql: Annotated[str, Form(max_length=20_000)] = "",
    epsilon: Annotated[str, Form(max_length=10)] = "0",
    bounds: Annotated[str, Form(max_length=2000)] = "",
    target: Annotated[str, Form(max_length=20)] = "",
    target_column: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """The forecast under the form (an htmx fragment): nothing is run, spent or kept."""
    found, error = None, None
    try:
        wanted = _number(target, what=_("the accuracy wanted")) if target.strip() else None
        if wanted is not None and wanted <= 0:
            raise InvalidInput(problem=_("the accuracy wanted must be above 0"))
        found = await run_in_threadpool(
            service.run_estimate,
            ctx,
            actor,
            contract_id=contract,
            query=sql,
            epsilon=_number(epsilon, what="ε"),
            bounds=_parse_bounds(bounds),
            target_column=target_column or None,
            target=wanted,
        )
    except YaosuError as exc:
        if exc.status == 404:
            raise
        error = exc.message(locale(request))
    return render(request, actor, "query_estimate.html", found=found, error=error)


@router.post("/requests/new/forecast")
def request_forecast(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    dataset: Annotated[str, Form(max_length=40)],
    epsilon: Annotated[str, Form(max_length=10)] = "",
    fields: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Under the request form's ε (an htmx fragment): how accurate a typical COUNT and AVG of
    the dataset would be if one query spent it. Nothing is run, spent or kept; a bad ε is
    said in words."""
    found, error = None, None
    try:
        if epsilon.strip():
            found = service.typical_accuracy(
                session,
                actor,
                settings=ctx.settings,
                dataset_id=dataset,
                epsilon=_number(epsilon, what="ε"),
                fields=fields,
            )
    except YaosuError as exc:
        if exc.status in (403, 404):  # a refusal: the error page says so, and it is audited
            raise
        error = exc.message(locale(request))
    return render(
        request,
        actor,
        "request_forecast.html",
        found=found,
        error=error,
        group=ctx.settings.min_group_size,
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
    target: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    answer, error = None, None
    try:
        answer = await run_in_threadpool(
            service.run_query,
            ctx,
            actor,
            contract_id=contract,
            query=sql,
            epsilon=_number(epsilon, what="ε"),
            bounds=_parse_bounds(bounds),
        )
    except YaosuError as exc:
        if exc.status == 404:  # the contract itself is hidden: the error page says so, once
            raise
        await run_in_threadpool(audit_refusal, request, exc)  # a write: off the event loop
        error = exc.message(locale(request))
    page = await run_in_threadpool(_context, ctx, actor, contract)
    return render(
        request,
        actor,
        "query.html",
        status=200 if error is None else 422,
        **page,
        sql=sql,
        epsilon=epsilon,
        bounds=bounds,
        target=target,
        answer=answer,
        chart=_chart(answer) if answer is not None else None,
        noisy=answer is not None and any(any(row) for row in answer.noise),
        error=error,
    )


def _chart(answer: service.QueryResult) -> dict[str, Any] | None:
    """A bar chart of the first numeric column by the group keys (both keys in each label);
    none for a single number."""
    if not answer.rows or len(answer.rows) < 2:
        return None
    first = answer.rows[0]
    numeric = [
        i for i, v in enumerate(first) if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    keys = [i for i in range(len(first)) if i not in numeric]
    if not numeric or not keys:
        return None
    value = numeric[0]
    # Serialised by the template's |tojson (aliases and grouped values are data).
    return {
        "labels": [" · ".join(str(r[k]) for k in keys) for r in answer.rows[:50]],
        "values": [r[value] for r in answer.rows[:50]],
        "name": answer.columns[value],
    }
