"""Console pages of the catalog: browse and search, a dataset, register one, upload a version."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from yaosu.accounts import service as accounts
from yaosu.authorization.policy import Resource, decide, enforce
from yaosu.catalog import dictionary, service, versions
from yaosu.catalog.models import Frequency, Openness
from yaosu.catalog.schemas import DatasetCreate, DictionaryIn
from yaosu.console.render import done, render
from yaosu.kernel.errors import YaosuError, translate
from yaosu.lineage import service as lineage
from yaosu.web.deps import ContextDep, OptionalActor, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)
PAGE = 10


@router.get("/catalog")
def browse(
    request: Request,
    actor: OptionalActor,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    theme: Annotated[str, Query(max_length=100)] = "",
    openness: Annotated[str, Query(max_length=20)] = "",
    provider: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    found = service.list_datasets(
        session,
        actor,
        q=q or None,
        theme=theme or None,
        openness=openness or None,
        provider=provider or None,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    names = accounts.org_names(session)
    template = "catalog_results.html" if request.headers.get("hx-request") else "catalog.html"
    return render(
        request,
        actor,
        template,
        items=[service.public(session, ds=d) for d in found.items],
        total=found.total,
        facets=found.facets,
        names=names,
        q=q,
        theme=theme,
        openness=openness,
        provider=provider,
        page=page,
        pages=max(1, -(-found.total // PAGE)),
    )


@router.get("/datasets/new")
def new_dataset_page(request: Request, actor: PageActor) -> Response:
    return render(request, actor, "dataset_new.html", error=None, values={}, **_vocabulary())


@router.post("/datasets/new")
def new_dataset(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    title: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=20000)] = "",
    keywords: Annotated[str, Form(max_length=2000)] = "",
    theme: Annotated[str, Form(max_length=100)] = "",
    licence: Annotated[str, Form(max_length=200)] = "CC-BY-4.0",
    update_frequency: Annotated[str, Form(max_length=20)] = "irregular",
    openness: Annotated[str, Form(max_length=20)] = "conditional",
) -> Response:
    values = {
        "title": title,
        "description": description,
        "keywords": keywords,
        "theme": theme,
        "licence": licence,
        "update_frequency": update_frequency,
        "openness": openness,
    }
    try:
        data = _create(values)
        with session.begin_nested():
            ds = service.create_dataset(session, actor, data=data)
    except YaosuError as exc:
        audit_refusal(request, exc, session)
        return render(
            request,
            actor,
            "dataset_new.html",
            status=exc.status,
            error=exc.message(locale(request)),
            values=values,
            **_vocabulary(),
        )
    return done(f"/datasets/{ds.id}/upload", "dataset.created")


def _create(values: dict[str, str]) -> DatasetCreate:
    from pydantic import ValidationError

    words = [w for part in values["keywords"].replace("，", ",").split(",") if (w := part.strip())]
    try:
        return DatasetCreate(**{**values, "keywords": words})
    except ValidationError as exc:
        raise translate(exc) from exc


def _vocabulary() -> dict[str, Any]:
    return {
        "openness_choices": [o.value for o in Openness],
        "frequency_choices": [f.value for f in Frequency],
    }


@router.get("/datasets/{dataset_id}")
def dataset_page(
    request: Request, dataset_id: str, actor: OptionalActor, session: SessionDep, ctx: ContextDep
) -> Response:
    ds = service.get_dataset(session, actor, dataset_id=dataset_id)
    listed = versions.list_versions(session, actor, dataset_id=dataset_id)
    resource = service.resource(ds)
    can_edit = decide(actor, "dataset.edit", resource).allowed
    read = decide(actor, "dataset.read", resource)
    preview = None
    # Rows are shown for open data and to the owner; every preview is an audited access.
    if listed and read.allowed and (ds.openness == "open" or can_edit):
        columns, rows, total = versions.preview(
            session, actor, store=ctx.store, dataset_id=ds.id, number=None, limit=20
        )
        preview = {"columns": columns, "rows": rows, "total": total}
    latest = listed[0] if listed else None
    entries = dictionary.entries(session, actor, dataset_id=ds.id)
    profile = versions.shown_columns(session, actor, ds=ds, version=latest) if latest else []
    # Data for the page's charts; the template serialises it with |tojson, which escapes
    # `<`, `>`, `&` and `'` (a column name or value cannot close the <script> block).
    charts = [
        {"name": c["name"], "top": c.get("top", []), "null_ratio": c["null_ratio"]}
        for c in profile
        if c.get("top")
    ]
    return render(
        request,
        actor,
        "dataset.html",
        ds=service.public(session, ds=ds),
        versions=listed,
        latest=latest,
        profile=profile,
        can={
            "dataset.edit": can_edit,
            # the holder's trusted list of algorithms (the compute domain's page)
            "algorithm.trusted": decide(
                actor, "algorithm.trusted", Resource("trusted", ds.id, ds.owner_org_id)
            ).allowed,
        },
        read=read,
        preview=preview,
        charts=charts,
        entries=entries,
        xlsx_rows=versions.XLSX_ROWS,
    )


@router.get("/datasets/{dataset_id}/lineage")
def lineage_page(
    request: Request, dataset_id: str, actor: OptionalActor, session: SessionDep
) -> Response:
    ds = service.get_dataset(session, actor, dataset_id=dataset_id)
    graph = lineage.view(
        versions.lineage_of(session, actor, dataset_id=ds.id), lang=locale(request)
    )
    return render(
        request, actor, "dataset_lineage.html", ds=service.public(session, ds=ds), graph=graph
    )


MAX_FORM_COLUMNS = 2000  # the most columns one dictionary form carries


@router.get("/datasets/{dataset_id}/dictionary")
def dictionary_page(
    request: Request, dataset_id: str, actor: PageActor, session: SessionDep
) -> Response:
    ds = service.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.edit", service.resource(ds))
    entries = dictionary.entries(session, actor, dataset_id=ds.id)
    return render(
        request,
        actor,
        "dictionary.html",
        ds=service.public(session, ds=ds),
        entries=entries,
        typed={},
        error=None,
    )


def _split_values(text: str) -> list[str]:
    """One value per line (a pasted column), or separated by 、 , ，"""
    for sep in ("、", "，", ","):
        text = text.replace(sep, "\n")
    return [v.strip() for v in text.splitlines() if v.strip()]


def _entries_from(form: Any) -> DictionaryIn:
    from pydantic import ValidationError

    columns = []
    for i in range(MAX_FORM_COLUMNS):
        name = form.get(f"column_{i}")
        if name is None:
            break
        lower, upper = (
            str(form.get(f"lower_{i}", "")).strip(),
            str(form.get(f"upper_{i}", "")).strip(),
        )
        entry: dict[str, Any] = {
            "column": str(name),
            "description": str(form.get(f"description_{i}", "")),
            "unit": str(form.get(f"unit_{i}", "")),
            "lower": lower or None,
            "upper": upper or None,
        }
        if f"domain_{i}" in form:  # offered only where a public domain may be declared
            if form.get(f"from_data_{i}"):
                entry["domain_from_data"] = True
            else:
                entry["domain"] = _split_values(str(form.get(f"domain_{i}", ""))) or None
        columns.append(entry)
    try:
        return DictionaryIn.model_validate({"columns": columns})
    except ValidationError as exc:
        raise translate(exc) from exc


@router.post("/datasets/{dataset_id}/dictionary")
async def write_dictionary(
    request: Request, dataset_id: str, actor: PageActor, session: SessionDep, ctx: ContextDep
) -> Response:
    form = await request.form(max_fields=MAX_FORM_COLUMNS * 8 + 8)
    return await run_in_threadpool(
        _write_dictionary, request, actor, session, ctx, dataset_id, form
    )


def _write_dictionary(
    request: Request, actor: Any, session: Any, ctx: Any, dataset_id: str, form: Any
) -> Response:
    try:
        data = _entries_from(form)
        with session.begin_nested():
            dictionary.write(session, actor, store=ctx.store, dataset_id=dataset_id, data=data)
    except YaosuError as exc:
        if exc.status == 404:
            raise
        audit_refusal(request, exc, session)
        typed = {  # what was typed, shown again (nothing is lost)
            str(form.get(f"column_{i}")): {
                k: str(form.get(f"{k}_{i}", ""))
                for k in ("description", "unit", "domain", "from_data", "lower", "upper")
            }
            for i in range(MAX_FORM_COLUMNS)
            if form.get(f"column_{i}") is not None
        }
        ds = service.get_dataset(session, actor, dataset_id=dataset_id)
        return render(
            request,
            actor,
            "dictionary.html",
            status=exc.status,
            ds=service.public(session, ds=ds),
            entries=dictionary.entries(session, actor, dataset_id=ds.id),
            typed=typed,
            error=exc.message(locale(request)),
        )
    return done(f"/datasets/{dataset_id}", "dictionary.saved")


@router.get("/datasets/{dataset_id}/upload")
def upload_page(
    request: Request, dataset_id: str, actor: PageActor, session: SessionDep
) -> Response:
    ds = service.get_dataset(session, actor, dataset_id=dataset_id)
    enforce(actor, "dataset.edit", service.resource(ds))
    return render(request, actor, "upload.html", ds=service.public(session, ds=ds))
