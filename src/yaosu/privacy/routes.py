"""HTTP routes of the privacy domain: screen a version, list screens, review one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from yaosu.privacy import service
from yaosu.privacy.schemas import DerivationPublic, ReviewCreate, ScreenPublic, ScreensPublic
from yaosu.web import CurrentActor, SessionDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["privacy"])


@router.post(
    "/datasets/{dataset_id}/versions/{number}/screens", response_model=ScreenPublic, status_code=201
)
def screen(
    dataset_id: str,
    number: int,
    actor: CurrentActor,
    session: SessionDep,
    st: StateDep,
    mode: Annotated[Literal["fast", "full"], Query()] = "fast",
) -> ScreenPublic:
    """Screen a version for personal information and grade it (fast: a random sample)."""
    made = service.screen_version(
        session, st.store, st.settings, actor, dataset_id, number, mode=mode
    )
    return ScreenPublic.model_validate(made)


@router.get("/datasets/{dataset_id}/screens", response_model=ScreensPublic)
def screens(dataset_id: str, actor: CurrentActor, session: SessionDep) -> ScreensPublic:
    items = service.list_screens(session, actor, dataset_id)
    return ScreensPublic(items=[ScreenPublic.model_validate(s) for s in items], total=len(items))


@router.get("/screens/{screen_id}", response_model=ScreenPublic)
def get_screen(screen_id: str, actor: CurrentActor, session: SessionDep) -> ScreenPublic:
    return ScreenPublic.model_validate(service.get_screen(session, actor, screen_id))


@router.post("/screens/{screen_id}/review", response_model=ScreenPublic)
def review(
    screen_id: str, body: ReviewCreate, actor: CurrentActor, session: SessionDep
) -> ScreenPublic:
    """The provider's reviewer confirms the screen, or corrects it with a reason."""
    done = service.review(
        session, actor, screen_id, personal=body.personal, grade=body.grade, note=body.note
    )
    return ScreenPublic.model_validate(done)


@router.get("/datasets/{dataset_id}/versions/{number}/suggested-recipe")
def suggested_recipe(
    dataset_id: str, number: int, actor: CurrentActor, session: SessionDep
) -> dict[str, Any]:
    """A starting de-identification recipe from the version's newest screen."""
    return service.suggested_recipe(session, actor, dataset_id, number)


@router.post(
    "/datasets/{dataset_id}/versions/{number}/deidentify",
    response_model=DerivationPublic,
    status_code=201,
)
def deidentify(
    dataset_id: str, number: int, recipe: dict[str, Any], actor: CurrentActor, st: StateDep
) -> DerivationPublic:
    """Apply a recipe: the result becomes the next version, linked to this one, and is
    screened at once; the response says which k (and l) it reached."""
    derivation, screen = service.deidentify(
        st.db, st.store, st.settings, actor, dataset_id, number, recipe
    )
    return DerivationPublic(
        **{c: getattr(derivation, c) for c in DerivationPublic.model_fields if c != "screen"},
        screen=ScreenPublic.model_validate(screen),
    )
