"""HTTP routes of the catalog domain."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from yaosu.accounts import service as accounts
from yaosu.catalog import dcat, dictionary, service, versions
from yaosu.catalog.ingest.errors import FileTooLarge
from yaosu.catalog.models import Openness
from yaosu.catalog.schemas import (
    CHINESE_FREQUENCY,
    CHINESE_OPENNESS,
    ColumnEntryPublic,
    DatasetCreate,
    DatasetPublic,
    DatasetsPublic,
    DatasetUpdate,
    DictionaryIn,
    Facet,
    Preview,
    VersionPublic,
    VersionsPublic,
)
from yaosu.kernel import spreadsheets
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput
from yaosu.kernel.i18n import _
from yaosu.lineage.schemas import GraphPublic
from yaosu.web.deps import ContextDep, CurrentActor, OptionalActor, SessionDep
from yaosu.web.params import JSONLDResponse, PathNumber, QueryOffset

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/datasets", response_model=DatasetsPublic)
def list_datasets(
    actor: OptionalActor,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="full-text search")] = None,
    theme: str | None = None,
    openness: Openness | None = None,
    provider: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: QueryOffset = 0,
) -> DatasetsPublic:
    found = service.list_datasets(
        session,
        actor,
        q=q,
        theme=theme,
        openness=openness,
        provider=provider,
        limit=limit,
        offset=offset,
    )
    org_names = accounts.org_names(session)
    labels = {
        "theme": lambda v: v,
        "openness": lambda v: CHINESE_OPENNESS.get(v, v),
        "provider": lambda v: org_names.get(v, v),
    }
    return DatasetsPublic(
        items=[service.public(session, ds=d) for d in found.items],
        total=found.total,
        limit=limit,
        offset=offset,
        facets={
            name: [Facet(value=v, label=labels[name](v), count=c) for v, c in values]
            for name, values in found.facets.items()
        },
    )


@router.post("/datasets", response_model=DatasetPublic, status_code=201)
def create_dataset(body: DatasetCreate, actor: CurrentActor, session: SessionDep) -> DatasetPublic:
    return service.public(session, ds=service.create_dataset(session, actor, data=body))


@router.get("/datasets/vocabulary")
def vocabulary() -> dict[str, dict[str, str]]:
    """Codes and Chinese labels for openness and update frequency."""
    return {
        "openness": CHINESE_OPENNESS,
        "update_frequency": CHINESE_FREQUENCY,
    }


@router.get("/datasets/{dataset_id}", response_model=DatasetPublic)
def get_dataset(dataset_id: str, actor: OptionalActor, session: SessionDep) -> DatasetPublic:
    return service.public(session, ds=service.get_dataset(session, actor, dataset_id=dataset_id))


@router.get("/datasets/{dataset_id}/lineage", response_model=GraphPublic)
def dataset_lineage(dataset_id: str, actor: OptionalActor, session: SessionDep) -> GraphPublic:
    """How each version was made, and what was made from them that you may see (OpenLineage
    runs: inputs, outputs, who ran each, its audit entries)."""
    return GraphPublic(**versions.lineage_of(session, actor, dataset_id=dataset_id).as_json())


@router.patch("/datasets/{dataset_id}", response_model=DatasetPublic)
def update_dataset(
    dataset_id: str, body: DatasetUpdate, actor: CurrentActor, session: SessionDep
) -> DatasetPublic:
    return service.public(
        session, ds=service.update_dataset(session, actor, dataset_id=dataset_id, data=body)
    )


@router.get("/datasets/{dataset_id}/dictionary", response_model=list[ColumnEntryPublic])
def get_dictionary(
    dataset_id: str, actor: OptionalActor, session: SessionDep
) -> list[ColumnEntryPublic]:
    """The data dictionary of the latest version's columns: description, unit, and what the
    provider declares public (a column's list of values, a numeric column's bounds)."""
    return dictionary.entries(session, actor, dataset_id=dataset_id)


@router.patch("/datasets/{dataset_id}/dictionary", response_model=list[ColumnEntryPublic])
def write_dictionary(
    dataset_id: str, body: DictionaryIn, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> list[ColumnEntryPublic]:
    """The provider writes dictionary entries (one audited change; a refused entry refuses
    them all). A public domain is declared only for a column the confirmed screen found
    neither personal nor an identifier; differentially private GROUP BY on declared columns
    releases every declared group, with noise and no threshold."""
    return dictionary.write(session, actor, store=ctx.store, dataset_id=dataset_id, data=body)


@router.get("/datasets/{dataset_id}/versions", response_model=VersionsPublic)
def list_versions(dataset_id: str, actor: OptionalActor, session: SessionDep) -> VersionsPublic:
    items = versions.list_versions(session, actor, dataset_id=dataset_id)
    ds = service.get_dataset(session, actor, dataset_id=dataset_id)
    return VersionsPublic(
        items=[versions.public_version(session, actor, ds=ds, version=v) for v in items],
        total=len(items),
    )


@router.post(
    "/datasets/{dataset_id}/versions",
    response_model=VersionPublic,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
async def upload_version(
    dataset_id: str,
    request: Request,
    actor: CurrentActor,
    ctx: ContextDep,
    filename: Annotated[str | None, Query(max_length=300)] = None,
    sheet: Annotated[str | None, Query(max_length=100)] = None,
) -> VersionPublic:
    """Upload a file as a new version: the raw body (``?filename=`` names it) or a
    multipart form with a ``file`` field. The body streams to disk with the size
    limit enforced as it arrives."""
    limit = ctx.settings.max_upload_bytes
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit + 1024 * 1024:  # multipart framing adds a little
        raise FileTooLarge(size=declared, limit_mb=limit // 2**20)
    # Locked while this request lives: a sweep at another process's start-up leaves it alone,
    # and the next start-up removes it if this process is killed mid-upload.
    with ctx.store.locked_temp(".upload") as temp:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            async with request.form(max_files=1) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise InvalidInput(problem=_("the form has no 'file' field"))
                name = filename or upload.filename or ""
                await run_in_threadpool(_copy, upload, temp, limit)
        else:
            if not filename:
                raise InvalidInput(problem=_("name the file with ?filename="))
            name = filename
            written = 0
            with temp.open("wb") as fh:
                async for chunk in request.stream():
                    written += len(chunk)
                    if written > limit:
                        raise FileTooLarge(size=written, limit_mb=limit // 2**20)
                    fh.write(chunk)
        version = await run_in_threadpool(
            versions.run_ingest,
            ctx,
            actor,
            dataset_id=dataset_id,
            source=temp,
            filename=name,
            sheet=sheet,
        )
    # As the viewer may see it (the profile filtered by decide()); off the event loop, as all
    # database work is.
    return await run_in_threadpool(_shown, ctx, actor, dataset_id, version)


def _shown(ctx: Any, actor: Actor, dataset_id: str, version: Any) -> VersionPublic:
    with ctx.db.transaction() as session:
        ds = service.get_dataset(session, actor, dataset_id=dataset_id)
        return versions.public_version(session, actor, ds=ds, version=version)


def _copy(upload: UploadFile, target: Path, limit: int) -> None:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    if size > limit:
        raise FileTooLarge(size=size, limit_mb=limit // 2**20)
    upload.file.seek(0)
    with target.open("wb") as fh:
        shutil.copyfileobj(upload.file, fh, 4 * 1024 * 1024)


@router.get("/datasets/{dataset_id}/versions/{number}", response_model=VersionPublic)
def get_version(
    dataset_id: str, number: PathNumber, actor: OptionalActor, session: SessionDep
) -> VersionPublic:
    version = versions.get_version(session, actor, dataset_id=dataset_id, number=number)
    ds = service.get_dataset(session, actor, dataset_id=dataset_id)
    return versions.public_version(session, actor, ds=ds, version=version)


@router.get("/datasets/{dataset_id}/versions/{number}/preview", response_model=Preview)
def preview(
    dataset_id: str,
    number: PathNumber,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Preview:
    columns, rows, total = versions.preview(
        session, actor, store=ctx.store, dataset_id=dataset_id, number=number, limit=limit
    )
    return Preview(columns=columns, rows=rows, total_rows=total)


DOWNLOADS = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/datasets/{dataset_id}/versions/{number}/data",
    response_class=FileResponse,
    responses={200: {"content": {m: {} for m in DOWNLOADS.values()}}},
)
def download(
    dataset_id: str,
    number: PathNumber,
    actor: OptionalActor,
    session: SessionDep,
    ctx: ContextDep,
    format: Annotated[Literal["parquet", "csv", "xlsx"], Query()] = "parquet",
) -> Response:
    """A version's rows, for whoever may read them (audited): Parquet as stored, CSV (UTF-8
    with BOM, streamed) or Excel (up to 200,000 rows); text cells are formula-safe."""
    if format == "xlsx":
        ds = service.get_dataset(session, actor, dataset_id=dataset_id)
        found = versions.get_version(session, actor, dataset_id=ds.id, number=number)
        if found.row_count > versions.XLSX_ROWS:
            raise InvalidInput(
                problem=_(
                    "version {number} has {rows} rows, more than an Excel download holds ({limit}): download it as CSV or Parquet",
                    number=found.number,
                    rows=found.row_count,
                    limit=versions.XLSX_ROWS,
                )
            )
    version, path = versions.open_data(
        session, actor, store=ctx.store, dataset_id=dataset_id, number=number, purpose="download"
    )
    name = f"{dataset_id}-v{version.number}.{format}"
    headers = {"X-Content-SHA256": version.sha256}
    if format == "parquet":
        return FileResponse(path, media_type=DOWNLOADS[format], filename=name, headers=headers)
    header, rows = spreadsheets.parquet_rows(path)
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if format == "csv":
        return StreamingResponse(
            spreadsheets.csv_chunks(header, rows), media_type=DOWNLOADS[format], headers=headers
        )
    content = spreadsheets.xlsx_bytes(header, rows)
    return Response(content, media_type=DOWNLOADS[format], headers=headers)


@router.get("/catalog", response_class=JSONLDResponse)
def catalog(request: Request, actor: OptionalActor, session: SessionDep) -> JSONLDResponse:
    """The catalog as DCAT 3 JSON-LD."""
    body = dcat.export(session, actor, base_url=str(request.base_url))
    return JSONLDResponse(body)
