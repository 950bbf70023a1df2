"""Pydantic shapes of the tasks API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.states import TaskState


class TaskError(BaseModel):
    code: str
    message: str


class TaskPublic(BaseModel):
    id: str
    kind: str
    status: TaskState
    progress: float
    stage: str
    object_type: str
    object_id: str
    result: dict[str, Any] | None
    error: TaskError | None
    attempts: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, task: Task, locale: str) -> TaskPublic:
        error = None
        if task.error_code:
            message = task.error_en if locale.startswith("en") else task.error_zh
            error = TaskError(code=task.error_code, message=message or "")
        return cls(
            id=task.id,
            kind=task.kind,
            status=TaskState(task.status),
            progress=task.progress,
            stage=task.stage,
            object_type=task.object_type,
            object_id=task.object_id,
            result=task.result,
            error=error,
            attempts=task.attempts,
            created_by=task.created_by,
            created_at=task.created_at,
            started_at=task.started_at,
            finished_at=task.finished_at,
        )


class TasksPublic(BaseModel):
    items: list[TaskPublic]
    total: int
