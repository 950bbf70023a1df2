"""HTTP routes of the privacy domain: screen a version, list screens, review one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from yaosu.privacy import service
from yaosu.privacy.schemas import ReviewCreate, ScreenPublic, ScreensPublic
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
