"""HTTP routes of background tasks: list, follow and cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from yaosu.tasks import service
from yaosu.tasks.schemas import TaskPublic, TasksPublic
from yaosu.web.deps import CurrentActor, SessionDep, locale

router = APIRouter(prefix="/api/v1", tags=["tasks"])


@router.get("/tasks", response_model=TasksPublic)
def tasks(
    request: Request,
    actor: CurrentActor,
    session: SessionDep,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    active: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TasksPublic:
    """Your tasks and your organisation's, newest first (regulators and the platform: all)."""
    found = service.list_tasks(session, actor, object_id=object_id, active_only=active, limit=limit)
    lang = locale(request)
    return TasksPublic(items=[TaskPublic.of(t, lang) for t in found], total=len(found))


@router.get("/tasks/{task_id}", response_model=TaskPublic)
def task(task_id: str, request: Request, actor: CurrentActor, session: SessionDep) -> TaskPublic:
    """One task: its status, progress, and its result or error once it has ended."""
    return TaskPublic.of(service.get_task(session, actor, task_id=task_id), locale(request))


@router.post("/tasks/{task_id}/cancel", response_model=TaskPublic)
def cancel(task_id: str, request: Request, actor: CurrentActor, session: SessionDep) -> TaskPublic:
    """Cancel a task: at once if queued, at its next progress report if running."""
    return TaskPublic.of(service.cancel(session, actor, task_id=task_id), locale(request))
