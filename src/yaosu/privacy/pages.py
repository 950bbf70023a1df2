"""Console pages of the privacy domain: the scan report, the review, and de-identification."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from yaosu.authorization.policy import decide
from yaosu.catalog import service as catalog
from yaosu.console.render import back_with_error, done, render
from yaosu.kernel.errors import InvalidInput, NotFound, YaosuError
from yaosu.kernel.i18n import _
from yaosu.privacy import deidentify as deid
from yaosu.privacy import service
from yaosu.privacy.grading import GRADES
from yaosu.privacy.models import Derivation, Screen
from yaosu.tasks import service as tasks
from yaosu.web.deps import ContextDep, PageActor, SessionDep, locale
from yaosu.web.errors import audit_refusal

router = APIRouter(include_in_schema=False)


@router.get("/datasets/{dataset_id}/privacy")
def privacy_page(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    screens = service.list_screens(session, actor, dataset_id=dataset_id)
    latest = screens[0] if screens else None
    recipe = (
        json.dumps(deid.suggest(latest.findings), ensure_ascii=False, indent=2) if latest else ""
    )
    derivations = list(
        session.scalars(
            select(Derivation)
            .where(Derivation.dataset_id == ds.id)
            .order_by(Derivation.created_at.desc())
        )
    )
    resource = catalog.resource(ds)
    return render(
        request,
        actor,
        "privacy.html",
        ds=catalog.public(session, ds=ds),
        screens=screens,
        latest=latest,
        recipe=recipe,
        derivations=derivations,
        grades=GRADES,
        error=error,
        jobs=tasks.list_tasks(session, actor, object_id=ds.id, limit=5),
        can={a: decide(actor, a, resource).allowed for a in ("dataset.review", "dataset.edit")},
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
) -> Response:
    screen = service.get_screen(session, actor, screen_id=screen_id)
    target = f"/datasets/{screen.dataset_id}/privacy"
    try:
        with session.begin_nested():
            service.review(
                session,
                actor,
                screen_id=screen_id,
                personal={"yes": True, "no": False}.get(personal),
                grade=grade or None,
                note=note,
            )
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, "screen.confirmed")


@router.post("/datasets/{dataset_id}/privacy/deidentify")
def deidentify_now(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    ctx: ContextDep,
    recipe: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:

    try:
        doc = _recipe(recipe)
        made = service.run_deidentify_request(
            ctx, actor, dataset_id=dataset_id, number=None, recipe_doc=doc
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
