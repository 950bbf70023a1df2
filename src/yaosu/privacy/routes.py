"""HTTP routes of the privacy domain: screen a version, list screens, review one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from yaosu.kernel.tasks.models import Task
from yaosu.privacy import service
from yaosu.privacy.schemas import DerivationPublic, ReviewCreate, ScreenPublic, ScreensPublic
from yaosu.tasks.schemas import TaskPublic
from yaosu.web.deps import ContextDep, CurrentActor, SessionDep, locale
from yaosu.web.params import PathNumber

router = APIRouter(prefix="/api/v1", tags=["privacy"])


ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": TaskPublic, "description": "queued as a background task"}
}


def _accepted(task: Task, request: Request) -> JSONResponse:
    """A large version's work runs in the background: 202, the task, and where to follow it."""
    body = TaskPublic.of(task, locale(request)).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/tasks/{task.id}"})


@router.post(
    "/datasets/{dataset_id}/versions/{number}/screens",
    response_model=ScreenPublic,
    status_code=201,
    responses=ACCEPTED,
)
def screen(
    request: Request,
    dataset_id: str,
    number: PathNumber,
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    mode: Annotated[Literal["fast", "full"], Query()] = "fast",
) -> Any:
    """Screen a version for personal information and grade it (fast: a random sample). A
    full scan of a version above ``background_rows`` rows answers 202 with a task."""
    made = service.request_screen(
        session,
        actor,
        store=ctx.store,
        settings=ctx.settings,
        dataset_id=dataset_id,
        number=number,
        mode=mode,
    )
    if isinstance(made, Task):
        return _accepted(made, request)
    return ScreenPublic.model_validate(made)


@router.get("/datasets/{dataset_id}/screens", response_model=ScreensPublic)
def screens(dataset_id: str, actor: CurrentActor, session: SessionDep) -> ScreensPublic:
    items = service.list_screens(session, actor, dataset_id=dataset_id)
    return ScreensPublic(items=[ScreenPublic.model_validate(s) for s in items], total=len(items))


@router.get("/screens/{screen_id}", response_model=ScreenPublic)
def get_screen(screen_id: str, actor: CurrentActor, session: SessionDep) -> ScreenPublic:
    screen = service.get_screen(session, actor, screen_id=screen_id)
    shown = ScreenPublic.model_validate(screen)
    return shown.model_copy(
        update={"findings": service.shown_findings(session, actor, screen=screen)}
    )


@router.post("/screens/{screen_id}/review", response_model=ScreenPublic)
def review(
    screen_id: str, body: ReviewCreate, actor: CurrentActor, session: SessionDep
) -> ScreenPublic:
    """The provider's reviewer confirms the screen, or corrects it with a reason."""
    done = service.review(
        session,
        actor,
        screen_id=screen_id,
        personal=body.personal,
        grade=body.grade,
        note=body.note,
        columns=body.columns,
    )
    return ScreenPublic.model_validate(done)


@router.get("/datasets/{dataset_id}/versions/{number}/suggested-recipe")
def suggested_recipe(
    dataset_id: str, number: PathNumber, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> dict[str, Any]:
    """A starting de-identification recipe from the version's newest screen: free text with
    names or numbers inside gets those spans masked, and k-anonymity (k = ``YAOSU_ANON_K``)
    is proposed on the quasi-identifiers the screen found."""
    return service.suggested_recipe(
        session, actor, dataset_id=dataset_id, number=number, k=ctx.settings.anon_k
    )


@router.post(
    "/datasets/{dataset_id}/versions/{number}/deidentify",
    response_model=DerivationPublic,
    status_code=201,
    responses=ACCEPTED,
)
def deidentify(
    request: Request,
    dataset_id: str,
    number: PathNumber,
    recipe: dict[str, Any],
    actor: CurrentActor,
    ctx: ContextDep,
) -> Any:
    """Apply a recipe: the result becomes the next version, linked to this one, and is
    screened at once; the response says which k (and l) it reached. A source above
    ``background_rows`` rows answers 202 with a task (the recipe is checked first)."""
    made = service.run_deidentify_request(
        ctx, actor, dataset_id=dataset_id, number=number, recipe_doc=recipe
    )
    if isinstance(made, Task):
        return _accepted(made, request)
    derivation, screen = made
    return DerivationPublic(
        **{c: getattr(derivation, c) for c in DerivationPublic.model_fields if c != "screen"},
        screen=ScreenPublic.model_validate(screen),
    )


@router.post("/datasets/{dataset_id}/versions/{number}/deidentify/preview")
def preview(
    dataset_id: str,
    number: PathNumber,
    recipe: dict[str, Any],
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
) -> dict[str, Any]:
    """Try a recipe on the version's first 1,000 rows: the first rows of the result, each
    column before and after, the k reached on the sample, and personal information left.
    Nothing is stored (the look is audited)."""
    return service.preview(
        session,
        actor,
        store=ctx.store,
        settings=ctx.settings,
        dataset_id=dataset_id,
        number=number,
        recipe_doc=recipe,
    )


@router.get("/derivations/{derivation_id}")
def derivation(derivation_id: str, actor: CurrentActor, session: SessionDep) -> dict[str, Any]:
    """A de-identified version beside its source: each column's profile and the personal
    information found, before and after, and the operation applied."""
    report = service.derivation_report(session, actor, derivation_id=derivation_id)
    d = report["derivation"]
    return {
        **{c: getattr(d, c) for c in DerivationPublic.model_fields if c != "screen"},
        "columns": report["columns"],
        "quasi_identifiers": report["quasi_identifiers"],
        "anonymisation": report["anonymisation"],
    }
