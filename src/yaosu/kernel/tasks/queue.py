"""Background tasks: a queue in the database, and what a running task can tell the world.

A domain registers a handler for a kind of task (``privacy.screen``, ``privacy.deidentify``).
A handler must be safe to run again from the start: it does its slow work outside any
transaction and commits its effect in one transaction together with ``run.complete(...)``,
so after a crash either the whole effect and the task's completion are there, or neither.
That is what lets a restart *resume* a task (run it again) without doubling anything.

Infrastructure: this package imports no domain. Who may see or cancel a task, and the audit
entries of its life, are added by the edge slice ``yaosu.tasks``, which hands the worker its
``Hooks``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import Database, locked, utcnow
from yaosu.kernel.errors import JobCancelled, JobFinished, JobInterrupted, YaosuError
from yaosu.kernel.ids import new_id
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.states import FINAL, TaskState, advance

MAX_ATTEMPTS = 3


class Run:
    """What a running task can tell the world: how far it got, and whether it must stop."""

    def __init__(self, db: Database, task_id: str) -> None:
        self.db = db
        self.task_id = task_id
        self._last = 0.0

    def progress(self, fraction: float, stage: str = "") -> None:
        """Records progress (at most twice a second) and stops the task if it was cancelled."""
        now = time.monotonic()
        if now - self._last < 0.5 and fraction < 1:
            return
        self._last = now
        with self.db.transaction() as session:
            task = session.get(Task, self.task_id)
            if task is None:
                return
            if task.cancel_requested:
                raise JobCancelled(id=self.task_id)
            task.progress = max(0.0, min(1.0, fraction))
            task.stage = stage[:200]
            task.heartbeat_at = utcnow()

    def complete(self, session: Session, result: dict[str, Any]) -> None:
        """Marks the task done inside the caller's transaction, the one that commits its effect."""
        task = session.get(Task, self.task_id)
        if task is None:
            return
        advance(task, TaskState.DONE)
        task.progress, task.stage = 1.0, ""
        task.result = result
        task.finished_at = utcnow()


# --- the handler registry ------------------------------------------------------------------

HandlerFn = Callable[[Context, Actor, dict[str, Any], Run], dict[str, Any]]


@dataclass(frozen=True)
class Handler:
    kind: str
    run: HandlerFn


HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[HandlerFn], HandlerFn]:
    def register(fn: HandlerFn) -> HandlerFn:
        if kind in HANDLERS:
            raise ValueError(f"a task handler for {kind} is already registered")
        HANDLERS[kind] = Handler(kind, fn)
        return fn

    return register


# --- the queue -----------------------------------------------------------------------------


def enqueue(
    session: Session,
    actor: Actor,
    kind: str,
    params: dict[str, Any],
    *,
    object_type: str,
    object_id: str,
    object_org_id: str | None,
) -> Task:
    """A new queued task, to run as ``actor`` (as they are when it runs)."""
    if kind not in HANDLERS:
        raise ValueError(f"no task handler for {kind}")
    task = Task(
        id=new_id("task"),
        kind=kind,
        params=params,
        actor={
            "id": actor.id,
            "username": actor.username,
            "via": actor.via,
            "scopes": sorted(actor.scopes) if actor.scopes is not None else None,
            "token_id": actor.token_id,
        },
        created_by=actor.id,
        object_type=object_type,
        object_id=object_id,
        object_org_id=object_org_id,
        status=TaskState.QUEUED,
        progress=0.0,
        stage="",
        attempts=0,
        cancel_requested=False,
    )
    session.add(task)
    session.flush()
    return task


def cancel(task: Task) -> None:
    """A queued task is cancelled at once; a running one stops at its next progress report."""
    if task.status in FINAL:
        raise JobFinished(id=task.id, status=task.status)
    task.cancel_requested = True
    if task.status == TaskState.QUEUED:
        finish(task, JobCancelled(id=task.id), status=TaskState.CANCELLED)


def finish(task: Task, error: YaosuError, *, status: TaskState = TaskState.FAILED) -> None:
    """Ends ``task`` as failed or cancelled, keeping its error in both languages."""
    advance(task, status)
    task.error_code = error.code
    task.error_zh = error.message("zh-CN")
    task.error_en = error.message("en")
    task.finished_at = utcnow()
    task.stage = ""


def claim(db: Database, worker: str) -> str | None:
    """Takes the oldest queued task: exactly one worker gets it, on either backend."""
    with db.transaction() as session:
        stmt = select(Task.id).where(Task.status == TaskState.QUEUED)
        stmt = stmt.order_by(Task.created_at, Task.id).limit(1)
        task_id = session.scalar(locked(stmt, skip_locked=True))
        if task_id is None:
            return None
        now = utcnow()
        # queued → running as one guarded UPDATE: of two workers, exactly one moves it.
        taken = session.execute(
            update(Task)
            .where(Task.id == task_id, Task.status == TaskState.QUEUED)
            .values(
                status=TaskState.RUNNING,
                worker=worker,
                started_at=now,
                heartbeat_at=now,
                attempts=Task.attempts + 1,
            )
        )
        return task_id if taken.rowcount == 1 else None  # type: ignore[attr-defined]


# --- recovery ------------------------------------------------------------------------------


def _alive_here(worker: str | None) -> bool:
    """Whether the worker that holds a task is a live process on this machine (None: unknown)."""
    if not worker:
        return False
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: only its heartbeat can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


Recovered = Callable[[Session, Task, str], None]


def recover(
    db: Database, *, stale_seconds: int, recovered: Recovered, me: str | None = None
) -> list[str]:
    """Running tasks whose worker is gone go back to the queue, or fail after MAX_ATTEMPTS;
    ``recovered(session, task, outcome)`` is told of each ("requeued" or "failed").

    A task is taken as dead when its worker process on this machine no longer exists, or when
    its heartbeat is older than ``stale_seconds`` (a worker on another machine).
    """
    found = []
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    with db.transaction() as session:
        running = list(session.scalars(select(Task).where(Task.status == TaskState.RUNNING)))
        for task in running:
            if task.worker == me:
                continue
            dead = not _alive_here(task.worker) or (
                task.heartbeat_at is not None and task.heartbeat_at < cutoff
            )
            if not dead:
                continue
            if task.attempts >= MAX_ATTEMPTS:
                finish(task, JobInterrupted(id=task.id, attempts=task.attempts))
                outcome = "failed"
            else:
                advance(task, TaskState.QUEUED)
                task.worker, task.stage, task.progress = None, "", 0.0
                outcome = "requeued"
            recovered(session, task, outcome)
            found.append(task.id)
    return found
