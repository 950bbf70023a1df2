"""HTTP routes of governed use: run a query under a contract."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from yaosu.access import extract, service
from yaosu.access.models import Extract
from yaosu.access.schemas import ExtractCreate, ExtractPublic, QueryAnswer, QueryCreate
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
