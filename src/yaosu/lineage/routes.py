"""HTTP routes of lineage: the OpenLineage events a reader may see, as JSON or NDJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from yaosu.lineage import service
from yaosu.lineage.schemas import EventsPublic
from yaosu.web.deps import CurrentActor, SessionDep
from yaosu.web.params import IsoDateTime

router = APIRouter(prefix="/api/v1", tags=["lineage"])

Name = Annotated[
    str | None,
    Query(
        max_length=120,
        pattern=r"^[A-Za-z0-9_./-]+$",
        description="a dataset's lineage name: datasets/<id>/v<n>, products/<id>, …",
    ),
]


@router.get("/lineage/events", response_model=EventsPublic)
def events(
    actor: CurrentActor,
    session: SessionDep,
    name: Name = None,
    since: IsoDateTime | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> EventsPublic:
    """OpenLineage run events you may read (those your organisation ran or that name its
    data; regulators and the platform: all), oldest first."""
    found = service.list_events(session, actor, name=name, since=since, limit=limit)
    return EventsPublic(items=[e.event for e in found], total=len(found))


@router.get(
    "/lineage/events.ndjson",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export(
    actor: CurrentActor,
    session: SessionDep,
    name: Name = None,
    since: IsoDateTime | None = None,
) -> StreamingResponse:
    """The same events as NDJSON, one OpenLineage event per line (for Marquez, DataHub, jq)."""
    found = service.list_events(session, actor, name=name, since=since)
    return StreamingResponse(
        iter(list(service.ndjson(found))),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="lineage.ndjson"'},
    )
