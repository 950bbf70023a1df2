"""The worker: claims one queued task at a time, keeps a heartbeat while it runs, and settles
it. A running task whose heartbeat stops (the process died) is put back in the queue, up to
``MAX_ATTEMPTS`` times, and then failed with ``JobInterrupted``; nothing is left hanging in
"running".

What needs a domain reaches the worker as ``Hooks``: who the task acts as (accounts), and the
audit entries of its end and of its recovery. ``yaosu.tasks.service`` builds them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.db import Database, utcnow
from yaosu.kernel.errors import Internal, JobCancelled, YaosuError, translate
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.queue import HANDLERS, Recovered, Run, claim, finish, recover
from yaosu.kernel.tasks.states import TaskState

log = logging.getLogger("yaosu.tasks")
HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True)
class Hooks:
    """``actor(session, task.actor)``: the submitter as they are now (raise to refuse);
    ``settled(session, task, error)``: the task has just failed or been cancelled;
    ``recovered(session, task, outcome)``: its worker died and it was requeued or failed."""

    actor: Callable[[Session, dict[str, Any]], Actor]
    settled: Callable[[Session, Task, YaosuError], None]
    recovered: Recovered


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_one(ctx: Context, worker: str, hooks: Hooks) -> str | None:
    """Claims and runs one task; returns its id, or None when the queue is empty."""
    task_id = claim(ctx.db, worker)
    if task_id is None:
        return None
    with ctx.db.transaction() as session:
        task = session.get(Task, task_id)
        assert task is not None
        kind, params, actor_doc = task.kind, dict(task.params), dict(task.actor)
    run = Run(ctx.db, task_id)
    beat = _Heartbeat(ctx.db, task_id)
    beat.start()
    try:
        handler_ = HANDLERS.get(kind)
        if handler_ is None:
            raise Internal(request_id=task_id)
        with ctx.db.transaction() as session:
            actor = hooks.actor(session, actor_doc)
        result = handler_.run(ctx, actor, params, run)
    except JobCancelled as exc:
        _settle(ctx.db, hooks, task_id, exc, status=TaskState.CANCELLED)
    except Exception as exc:  # stored as the one error table translates it
        error = translate(exc, request_id=task_id)
        if isinstance(error, Internal) and error is not exc:
            log.exception("task %s (%s) failed", task_id, kind)
        elif error is not exc:
            log.warning("task %s (%s) failed: %s (%s)", task_id, kind, error.code, exc)
        _settle(ctx.db, hooks, task_id, error)
    else:
        with ctx.db.transaction() as session:
            task = session.get(Task, task_id)
            if task is not None and task.status == TaskState.RUNNING:  # not completed by it
                Run(ctx.db, task_id).complete(session, result)
    finally:
        beat.stop()
    return task_id


def _settle(
    db: Database,
    hooks: Hooks,
    task_id: str,
    error: YaosuError,
    *,
    status: TaskState = TaskState.FAILED,
) -> None:
    with db.transaction() as session:
        task = session.get(Task, task_id)
        if task is None or task.status != TaskState.RUNNING:  # ended, or requeued meanwhile
            return
        finish(task, error, status=status)
        hooks.settled(session, task, error)


class _Heartbeat:
    """Touches the running task's heartbeat while the handler works, so that a live task is
    never mistaken for a dead one during a long step that reports no progress."""

    def __init__(self, db: Database, task_id: str) -> None:
        self.db, self.task_id = db, task_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{task_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self.db.transaction() as session:
                    session.execute(
                        update(Task)
                        .where(Task.id == self.task_id, Task.status == TaskState.RUNNING)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a busy database delays one beat; the next one tries again
                log.warning("heartbeat of task %s skipped", self.task_id, exc_info=True)


class Worker:
    """Runs queued tasks in a background thread of this process until stopped."""

    def __init__(self, ctx: Context, hooks: Hooks, *, poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.hooks = hooks
        self.name = worker_name()
        self.poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="yaosu-tasks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        last_recovery = 0.0
        stale = self.ctx.settings.task_stale_seconds
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_recovery > 5:
                    recover(
                        self.ctx.db,
                        stale_seconds=stale,
                        recovered=self.hooks.recovered,
                        me=self.name,
                    )
                    last_recovery = time.monotonic()
                if run_one(self.ctx, self.name, self.hooks) is not None:
                    continue
            except Exception:  # keep the worker alive; the task itself has been settled
                log.exception("task worker step failed")
            self._stop.wait(self.poll)
