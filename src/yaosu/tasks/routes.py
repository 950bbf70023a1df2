"""HTTP routes of background jobs: list, follow and cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from yaosu.jobs import service
from yaosu.jobs.schemas import JobPublic, JobsPublic
from yaosu.web import CurrentActor, SessionDep, locale

router = APIRouter(prefix="/api/v1", tags=["jobs"])


@router.get("/jobs", response_model=JobsPublic)
def jobs(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    active: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobsPublic:
    """Your jobs and your organisation's, newest first (regulators and the platform: all)."""
    found = service.list_jobs(session, actor, object_id=object_id, active_only=active, limit=limit)
    lang = locale(request)
    return JobsPublic(items=[JobPublic.of(j, lang) for j in found], total=len(found))


@router.get("/jobs/{job_id}", response_model=JobPublic)
def job(job_id: str, request: Request, actor: CurrentActor, session: SessionDep) -> JobPublic:
    """One job: its status, progress, and its result or error once it has ended."""
    return JobPublic.of(service.get_job(session, actor, job_id), locale(request))


@router.post("/jobs/{job_id}/cancel", response_model=JobPublic)
def cancel(job_id: str, request: Request, actor: CurrentActor, session: SessionDep) -> JobPublic:
    """Cancel a job: at once if queued, at its next progress report if running."""
    return JobPublic.of(service.cancel(session, actor, job_id), locale(request))
