"""HTTP routes of governed use: run a query under a contract."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from yaosu.access import extract, history, service
from yaosu.access.models import Extract, QueryRun
from yaosu.access.schemas import (
    EstimatePublic,
    ExtractCreate,
    ExtractPublic,
    QueryAnswer,
    QueryCreate,
    QueryEstimate,
    QueryRunPublic,
)
from yaosu.web.deps import ContextDep, CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.post("/queries", response_model=QueryAnswer)
async def query(body: QueryCreate, actor: CurrentActor, ctx: ContextDep) -> QueryAnswer:
    """Run SQL (DuckDB dialect) on the datasets a contract covers. The answer is aggregated
    (groups below the minimum size removed) or, under a privacy budget, differentially
    private, with the ε it cost and its accuracy. A refused query says which clause refused
    what, and costs nothing."""
    result = await run_in_threadpool(
        service.run_query,
        ctx,
        actor,
        contract_id=body.contract_id,
        query=body.sql,
        epsilon=body.epsilon,
        bounds=body.bounds,
        engine=body.engine,
    )
    return QueryAnswer(**asdict(result))


@router.post("/queries/estimate", response_model=EstimatePublic)
async def estimate(body: QueryEstimate, actor: CurrentActor, ctx: ContextDep) -> EstimatePublic:
    """What a query would cost and how accurate its answer would be (95% bounds, per output
    column), which groups it would release (every declared group, or those above a noisy
    threshold), and, given a target ± for one column, the smallest ε that meets it. Nothing
    is run or spent."""
    found = await run_in_threadpool(
        service.run_estimate,
        ctx,
        actor,
        contract_id=body.contract_id,
        query=body.sql,
        epsilon=body.epsilon,
        bounds=body.bounds,
        target_column=body.target_column,
        target=body.target,
    )
    f = found.forecast
    return EstimatePublic(
        epsilon=f.epsilon,
        measures=f.measures,
        outputs=f.outputs,
        threshold=f.threshold,
        partitions=f.partitions,
        rows=f.rows,
        epsilon_left=found.epsilon_left,
        units=found.units,
        suggested_epsilon=found.suggested_epsilon,
        target_column=found.target_column,
        target=found.target,
    )


def _run(run: QueryRun) -> QueryRunPublic:
    return QueryRunPublic.model_validate(run, from_attributes=True)


@router.get("/contracts/{contract_id}/queries", response_model=list[QueryRunPublic])
def list_runs(contract_id: str, actor: CurrentActor, session: SessionDep) -> list[QueryRunPublic]:
    """The contract's answered queries, newest first: the SQL, the ε spent, when, the row
    count and the released answer."""
    return [_run(r) for r in history.list_runs(session, actor, contract_id=contract_id)]


@router.get("/queries/{run_id}", response_model=QueryRunPublic)
def get_run(run_id: str, actor: CurrentActor, session: SessionDep) -> QueryRunPublic:
    return _run(history.get_run(session, actor, run_id=run_id))


@router.get(
    "/queries/{run_id}/answer",
    response_class=Response,
    responses={200: {"content": {m: {} for m in history.FORMATS.values()}}},
)
def export_answer(
    run_id: str,
    actor: CurrentActor,
    session: SessionDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    """The released answer as it was shown, as CSV (UTF-8 with BOM) or XLSX, with each noisy
    column's 95% bound beside it. Spends nothing; audited."""
    made = history.export(session, actor, run_id=run_id, fmt=format)
    return Response(
        made.content,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


def _public(extract: Extract) -> ExtractPublic:
    return ExtractPublic(
        id=extract.id,
        contract_id=extract.contract_id,
        dataset_id=extract.dataset_id,
        version=extract.version,
        format=extract.format,
        sha256=extract.sha256,
        size_bytes=extract.size_bytes,
        rows=extract.rows,
        manifest=extract.manifest,
        download=f"/api/v1/extracts/{extract.id}/file",
    )


@router.post("/contracts/{contract_id}/extracts", response_model=ExtractPublic, status_code=201)
async def create_extract(
    contract_id: str, body: ExtractCreate, actor: CurrentActor, ctx: ContextDep
) -> ExtractPublic:
    """A de-identified extract of a dataset the contract covers (the contract must permit
    extracts): the granted rows and fields, de-identified, watermarked for this contract,
    with a signed manifest of hashes and terms. Costs one use."""
    made = await run_in_threadpool(
        extract.run_extract,
        ctx,
        actor,
        contract_id=contract_id,
        dataset_id=body.dataset_id,
        fmt=body.format,
    )
    return _public(made)


@router.get("/extracts/{extract_id}", response_model=ExtractPublic)
def get_extract(extract_id: str, actor: CurrentActor, session: SessionDep) -> ExtractPublic:
    return _public(extract.get_extract(session, actor, extract_id=extract_id))


@router.get("/extracts/{extract_id}/file")
def download(extract_id: str, actor: CurrentActor, ctx: ContextDep) -> FileResponse:
    """The extract's file, for the recipient only (audited)."""
    made = extract.run_download(ctx, actor, extract_id=extract_id)
    media = "text/csv; charset=utf-8" if made.format == "csv" else "application/vnd.apache.parquet"
    return FileResponse(
        ctx.store.path(made.sha256),
        media_type=media,
        filename=f"{made.dataset_id}-{made.id}.{made.format}",
    )
