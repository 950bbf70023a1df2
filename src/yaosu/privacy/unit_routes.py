"""Routes of the privacy unit (API and console): its own module, beside the privacy domain's
routes, so that the declaration stays one small piece."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from yaosu.authorization.policy import decide
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.console.render import back_with_error, done, render
from yaosu.kernel.errors import YaosuError
from yaosu.privacy import unit
from yaosu.web.deps import CurrentActor, PageActor, SessionDep


class PrivacyUnitDeclare(BaseModel):
    """The column(s) that name one person, or ``each_row_is_a_person``."""

    columns: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=unit.MAX_COLUMNS
    )
    each_row_is_a_person: bool = False
    note: str = Field(default="", max_length=2000)


class UnitProposal(BaseModel):
    columns: list[str]
    why_zh: str
    why_en: str


class PrivacyUnitPublic(BaseModel):
    dataset_id: str
    declared: bool
    columns: list[str]
    each_row_is_a_person: bool
    note: str | None
    declared_by: str | None
    declared_at: datetime | None
    personal: bool | None
    proposal: UnitProposal | None


router = APIRouter(prefix="/api/v1", tags=["privacy"])
pages = APIRouter(include_in_schema=False)


@router.get("/datasets/{dataset_id}/privacy-unit", response_model=PrivacyUnitPublic)
def get_unit(dataset_id: str, actor: CurrentActor, session: SessionDep) -> PrivacyUnitPublic:
    """The dataset's declared privacy unit and the screen's proposal (the provider)."""
    return PrivacyUnitPublic(**unit.view(session, actor, dataset_id=dataset_id))


@router.put("/datasets/{dataset_id}/privacy-unit", response_model=PrivacyUnitPublic)
def put_unit(
    dataset_id: str, body: PrivacyUnitDeclare, actor: CurrentActor, session: SessionDep
) -> PrivacyUnitPublic:
    """The provider's reviewer or admin declares what one person is (audited)."""
    unit.declare(
        session,
        actor,
        dataset_id=dataset_id,
        columns=body.columns,
        each_row_is_a_person=body.each_row_is_a_person,
        note=body.note,
    )
    return PrivacyUnitPublic(**unit.view(session, actor, dataset_id=dataset_id))


@pages.get("/datasets/{dataset_id}/privacy-unit")
def unit_page(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    error: str | None = None,
) -> Response:
    ds = catalog.get_dataset(session, actor, dataset_id=dataset_id)
    shown = unit.view(session, actor, dataset_id=dataset_id)
    version = (
        versions.get_version(session, actor, dataset_id=ds.id, number=None)
        if ds.latest_version
        else None
    )
    return render(
        request,
        actor,
        "privacy_unit.html",
        ds=catalog.public(session, ds=ds),
        unit=shown,
        columns=[c["name"] for c in version.columns] if version else [],
        can={"dataset.review": decide(actor, "dataset.review", catalog.resource(ds)).allowed},
        error=error,
    )


@pages.post("/datasets/{dataset_id}/privacy-unit")
def declare_page(
    request: Request,
    dataset_id: str,
    actor: PageActor,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=12)] = "columns",
    columns: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = f"/datasets/{dataset_id}/privacy-unit"
    try:
        with session.begin_nested():
            unit.declare(
                session,
                actor,
                dataset_id=dataset_id,
                columns=[] if kind == "each_row" else list(columns or [])[: unit.MAX_COLUMNS + 1],
                each_row_is_a_person=kind == "each_row",
                note=note,
            )
    except YaosuError as exc:
        return back_with_error(request, target, exc, session=session)
    return done(target, "unit.declared")
