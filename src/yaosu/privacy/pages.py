"""Console pages of the privacy domain: the scan report, the review, and de-identification."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from yaosu.authorization.policy import decide
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.console.render import back_with_error, done, render
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import InvalidInput, NotFound, YaosuError
from yaosu.kernel.i18n import _
from yaosu.kernel.settings import Settings
from yaosu.privacy import deidentify as deid
from yaosu.privacy import service, unit
from yaosu.privacy.detectors import REGISTRY, SENSITIVE_CATEGORIES
from yaosu.privacy.grading import GRADES
from yaosu.privacy.models import Derivation, Screen
from yaosu.tasks import service as tasks
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)


# What the recipe editor offers a column of each kind (the catalog profile's ``kind``); a
# recipe from the JSON view may name anything Recipe.parse accepts, and the form shows it.
_TEXT_OPS = ("keep", "mask_spans", "mask", "pseudonymise", "generalise", "drop")
_NUMBER_OPS = ("keep", "round", "top_code", "generalise", "pseudonymise", "mask", "drop")
OPS_FOR = {
    "string": _TEXT_OPS,
    "integer": _NUMBER_OPS,
    "number": _NUMBER_OPS,
    "date": ("keep", "generalise", "pseudonymise", "drop"),
    "timestamp": ("keep", "generalise", "pseudonymise", "drop"),
}
LEVELS_FOR = {
    "string": ("county", "region_birth_year", "year", "month", "year_band"),
    "integer": ("age_band",),
    "number": ("age_band",),
    "date": ("year_band", "year", "month"),
    "timestamp": ("year_band", "year", "month"),
}
PERSONAL_ENTITIES = tuple(e for e, d in REGISTRY.items() if d.personal)


def _editor(
    session: Any, actor: Actor, *, ds: Any, screens: list[Screen], settings: Settings
) -> dict[str, Any]:
    """The recipe editor of the latest version: each column with what its screen found, and
    the recipe that screen suggests (k-anonymity on the quasi-identifiers it found)."""
    version = versions.get_version(session, actor, dataset_id=ds.id, number=None)
    screen = next((s for s in screens if s.version == version.number), None)
    findings = screen.findings if screen is not None else {}
    doc = deid.suggest(findings, k=settings.anon_k)
    found = {c["column"]: c for c in findings.get("columns", [])}
    quasi = list(findings.get("quasi_identifiers") or [])
    columns = []
    for index, column in enumerate(version.columns):
        name, kind = column["name"], column.get("kind", "string")
        step = doc["columns"].get(name, {"op": "keep"})
        ops = list(OPS_FOR.get(kind, ("keep", "pseudonymise", "drop")))
        if step["op"] not in ops:
            ops.append(step["op"])
        screened = found.get(name, {})
        columns.append(
            {
                "index": index,
                "name": name,
                "kind": kind,
                "entities": screened.get("entities", []),
                "in_text": deid.spans_in_text(screened) if screened else False,
                "quasi": name in quasi,
                "step": step,
                "ops": ops,
                "levels": LEVELS_FOR.get(kind, ()),
            }
        )
    return {
        "version": version,
        "screen": screen,
        "columns": columns,
        "recipe": json.dumps(doc, ensure_ascii=False, indent=2),
        "doc": doc,
        "quasi_found": [
            q for q in quasi if q in doc.get("k_anonymity", {}).get("quasi_identifiers", [])
        ],
        "k_default": settings.anon_k,
        "l_default": settings.anon_l,
        "entities": PERSONAL_ENTITIES,
    }


@router.get("/datasets/{dataset_id}/privacy")
def privacy_page(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    error: str | None = None,
) -> Response:
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    screens = service.list_screens(session, actor, dataset_id=dataset_id)
    latest = screens[0] if screens else None
    derivations = list(
        session.scalars(
            select(Derivation)
            .where(Derivation.dataset_id == ds.id)
            .order_by(Derivation.created_at.desc())
        )
    )
    resource = catalog.resource(ds)
    can = {a: decide(actor, a, resource).allowed for a in ("dataset.review", "dataset.edit")}
    editor = (
        _editor(session, actor, ds=ds, screens=screens, settings=ctx.settings)
        if can["dataset.edit"] and ds.latest_version
        else None
    )
    return render(
        request,
        actor,
        "privacy.html",
        ds=catalog.public(session, ds=ds),
        screens=screens,
        latest=latest,
        editor=editor,
        derivations=derivations,
        grades=GRADES,
        categories=SENSITIVE_CATEGORIES,
        error=error,
        jobs=tasks.list_tasks(session, actor, object_id=ds.id, limit=5),
        can=can,
    )


@router.post("/datasets/{dataset_id}/privacy/screen")
def screen_now(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    mode: Annotated[str, Form(max_length=8)] = "fast",
) -> Response:
    """Screens at once, or queues a job for a large version (the page then shows its progress)."""
    made = service.request_screen(
        session,
        actor,
        store=ctx.store,
        settings=ctx.settings,
        dataset_id=dataset_id,
        number=None,
        mode=mode,
    )
    queued = not isinstance(made, Screen)
    return done(f"/datasets/{dataset_id}/privacy", "screen.queued" if queued else "screen.done")


@router.post("/screens/{screen_id}/review")
def review_screen(
    request: Request,
    screen_id: str,
    actor: PageActor,
    session: SessionDep,
    personal: Annotated[str, Form(max_length=8)] = "",
    grade: Annotated[str, Form(max_length=12)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    column: Annotated[list[str] | None, Form()] = None,
    category: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """One review of the whole screen: the reviewer's word on each screened column (left
    "as found", it is confirmed) and on the screen, one audit entry listing the corrections."""
    screen = service.get_screen(session, actor, screen_id=screen_id)
    target = f"/datasets/{screen.dataset_id}/privacy"
    try:
        names, choices = column or [], category or []
        if len(names) != len(choices):
            raise InvalidInput(problem=_("each column needs exactly one choice"))
        with session.begin_nested():
            reviewed = service.review(
                session,
                actor,
                screen_id=screen_id,
                personal={"yes": True, "no": False}.get(personal),
                grade=grade or None,
                note=note,
                columns={n: c for n, c in zip(names, choices, strict=True) if c},
            )
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    # Personal data is not answered privately before its unit is declared: say so now.
    if reviewed.personal and unit.declared(session, dataset_id=screen.dataset_id) is None:
        return done(target, "screen.unit_needed")
    return done(target, "screen.confirmed")


@router.post("/datasets/{dataset_id}/privacy/deidentify")
def deidentify_now(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    ctx: ContextDep,
    recipe: Annotated[str, Form(max_length=200_000)] = "",
    version: Annotated[int | None, Form(ge=1)] = None,
    confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Runs a recipe the provider confirmed (``privacy_confirm.html``), on the version it was
    confirmed for: nothing runs straight from the editor, or on Enter."""
    try:
        if confirmed != "yes" or version is None:
            raise InvalidInput(
                problem=_("check the recipe and confirm it before the de-identification runs")
            )
        doc = _recipe(recipe)
        made = service.run_deidentify_request(
            ctx, actor, dataset_id=dataset_id, number=version, recipe_doc=doc
        )
    except YaosuError as exc:
        return back_with_error(request, f"/datasets/{dataset_id}/privacy", exc, session=None)
    if isinstance(made, tuple):
        derivation, _skip = made
        return done(f"/datasets/{dataset_id}/privacy/derivations/{derivation.id}", "deidentified")
    return done(f"/datasets/{dataset_id}/privacy", "deidentify.queued")


def _recipe(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(problem=_("the recipe is not valid JSON: {exc}", exc=exc)) from exc
    if not isinstance(doc, dict):
        raise InvalidInput(problem=_("the recipe must be a JSON object"))
    return doc


@router.post("/datasets/{dataset_id}/privacy/preview")
def preview_fragment(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    recipe: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """The recipe editor's preview (an htmx fragment): errors show in place, nothing is kept."""
    try:
        with session.begin_nested():
            shown = service.preview(
                session,
                actor,
                store=ctx.store,
                settings=ctx.settings,
                dataset_id=dataset_id,
                number=None,
                recipe_doc=_recipe(recipe),
            )
    except YaosuError as exc:
        audit_refusal(request, exc, session)
        return render(request, actor, "privacy_preview.html", error=exc.message(locale(request)))
    return render(request, actor, "privacy_preview.html", error=None, p=shown)


@router.post("/datasets/{dataset_id}/privacy/deidentify/confirm")
def confirm_fragment(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    ctx: ContextDep,
    recipe: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """The confirmation before a de-identification runs (an htmx fragment): what it creates,
    from which version, with which recipe, and how long it takes. The recipe is checked as
    the run checks it; a bad one shows its error here, and nothing runs."""
    try:
        with session.begin_nested():
            planned = service.plan(
                session,
                actor,
                store=ctx.store,
                settings=ctx.settings,
                dataset_id=dataset_id,
                number=None,
                recipe_doc=_recipe(recipe),
            )
    except YaosuError as exc:
        audit_refusal(request, exc, session)
        return render(request, actor, "privacy_confirm.html", error=exc.message(locale(request)))
    return render(
        request,
        actor,
        "privacy_confirm.html",
        error=None,
        plan=planned,
        recipe=json.dumps(planned["recipe"], ensure_ascii=False),
        shown=json.dumps(planned["recipe"], ensure_ascii=False, indent=2),
    )


@router.get("/datasets/{dataset_id}/privacy/tasks")
def tasks_fragment(
    request: Request, dataset_id: str, actor: PageActor, session: SessionDep
) -> Response:
    """The dataset's background tasks with their progress (an htmx fragment that polls itself
    while any task is unfinished)."""
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    found = tasks.list_tasks(session, actor, object_id=ds.id, limit=5)
    return render(request, actor, "privacy_tasks.html", ds=ds, jobs=found)


@router.get("/datasets/{dataset_id}/privacy/derivations/{derivation_id}")
def derivation_page(
    request: Request, dataset_id: str, derivation_id: str, actor: PageActor, session: SessionDep
) -> Response:
    """A de-identified version beside its source: profiles and findings before and after."""
    report = service.derivation_report(session, actor, derivation_id=derivation_id)
    if report["derivation"].dataset_id != dataset_id:
        raise NotFound(kind=_("Derivation"), id=derivation_id)
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    return render(
        request,
        actor,
        "privacy_derivation.html",
        ds=ds,
        recipe=json.dumps(report["derivation"].recipe, ensure_ascii=False, indent=2),
        **report,
    )
