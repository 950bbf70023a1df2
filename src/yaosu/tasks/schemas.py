"""Pydantic shapes of the jobs API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from yaosu.jobs.models import Job


class JobError(BaseModel):
    code: str
    message: str


class JobPublic(BaseModel):
    id: str
    kind: str
    status: str  # queued | running | done | failed | cancelled
    progress: float
    stage: str
    object_type: str
    object_id: str
    result: dict[str, Any] | None
    error: JobError | None
    attempts: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, locale: str) -> JobPublic:
        error = None
        if job.error_code:
            message = job.error_en if locale.startswith("en") else job.error_zh
            error = JobError(code=job.error_code, message=message or "")
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            stage=job.stage,
            object_type=job.object_type,
            object_id=job.object_id,
            result=job.result,
            error=error,
            attempts=job.attempts,
            created_by=job.created_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobsPublic(BaseModel):
    items: list[JobPublic]
    total: int
