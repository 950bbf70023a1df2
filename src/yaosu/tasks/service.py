"""Background tasks at the edge: who may see and cancel a task (``decide()``), the audit
entries of its life, and who it acts as when it runs (accounts).

``yaosu.kernel.tasks`` runs the queue and the worker without knowing any domain; this slice
adds what needs one, so it is what routes, pages, the CLI and other domains call. Domains
register their handlers with ``yaosu.kernel.tasks.queue.handler`` and queue work with
``enqueue`` here, which audits it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yaosu.accounts.service import active_actor
from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, Rows, enforce, record_denial, visible
from yaosu.context import Context
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.errors import AuthRequired, NotFound, YaosuError
from yaosu.kernel.i18n import _
from yaosu.kernel.tasks import queue, worker
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.queue import MAX_ATTEMPTS, Run, claim, handler
from yaosu.kernel.tasks.states import ACTIVE, TaskState
from yaosu.kernel.tasks.worker import worker_name

__all__ = [
    "HOOKS",
    "MAX_ATTEMPTS",
    "Run",
    "cancel",
    "claim",
    "enqueue",
    "finished_tasks",
    "get_task",
    "handler",
    "list_tasks",
    "run_one",
    "run_recover",
    "start_worker",
    "worker_name",
]


ENDED = (TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)


def resource(task: Task) -> Resource:
    return Resource("job", task.id, task.object_org_id, {"created_by": task.created_by})


ROWS = Rows("job", Task.object_org_id, {"created_by": Task.created_by})  # ``resource`` as SQL


def enqueue(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    params: dict[str, Any],
    object_type: str,
    object_id: str,
    object_org_id: str | None,
) -> Task:
    """Queues a task (audited in the caller's transaction)."""
    task = queue.enqueue(
        session,
        actor,
        kind,
        params,
        object_type=object_type,
        object_id=object_id,
        object_org_id=object_org_id,
    )
    record(
        session,
        actor,
        action="job.create",
        object_type=object_type,
        object_id=object_id,
        object_org_id=object_org_id,
        request={"kind": kind, "params": params},
        detail={"job": task.id, "kind": kind},
    )
    return task


def get_task(session: Session, actor: Actor, *, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(kind=_("Background job"), id=task_id)
    enforce(actor, "job.view", resource(task))
    return task


def list_tasks(
    session: Session,
    actor: Actor,
    *,
    object_id: str | None = None,
    active_only: bool = False,
    limit: int = 50,
) -> list[Task]:
    """Tasks the actor may see (``job.view``), newest first."""
    stmt = (
        select(Task).order_by(Task.created_at.desc(), Task.id.desc()).limit(max(1, min(limit, 500)))
    )
    if object_id is not None:
        stmt = stmt.where(Task.object_id == object_id)
    if active_only:
        stmt = stmt.where(Task.status.in_(ACTIVE))
    return list(session.scalars(stmt.where(visible(actor, "job.view", ROWS))))


def finished_tasks(
    session: Session, actor: Actor, *, since: datetime, limit: int = 50
) -> list[Task]:
    """The actor's own tasks that ended (done, failed or cancelled) since ``since``, newest
    first: what the inbox tells their submitter."""
    stmt = (
        select(Task)
        .where(
            visible(actor, "job.view", ROWS),
            Task.created_by == actor.id,
            Task.status.in_(ENDED),
            Task.finished_at >= since,
        )
        .order_by(Task.finished_at.desc(), Task.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    return list(session.scalars(stmt))


def cancel(session: Session, actor: Actor, *, task_id: str) -> Task:
    """A queued task is cancelled at once; a running one stops at its next progress report."""
    task = get_task(session, actor, task_id=task_id)
    enforce(actor, "job.cancel", resource(task))
    queue.cancel(task)
    record(
        session,
        actor,
        action="job.cancel",
        object_type=task.object_type,
        object_id=task.object_id,
        object_org_id=task.object_org_id,
        request={"job": task.id},
        detail={"job": task.id, "status": task.status},
    )
    return task


# --- what the worker needs from the domains ------------------------------------------------


def _actor(session: Session, doc: dict[str, Any]) -> Actor:
    """The submitter as they are now: a user since deactivated cannot run their tasks."""
    if doc["via"] == "cli" and str(doc["id"]).startswith("system:"):
        return Actor(id=doc["id"], username=doc["username"], org_id=None, via="cli")
    scopes = frozenset(doc["scopes"]) if doc.get("scopes") is not None else None
    actor = active_actor(
        session, user_id=doc["id"], scopes=scopes, via=doc["via"], token_id=doc.get("token_id")
    )
    if actor is None:
        raise AuthRequired()
    return actor


def _settled(session: Session, task: Task, error: YaosuError) -> None:
    # A task refused by decide() writes its deny entry too, with the failure.
    record_denial(session, error, {"job": task.id, "kind": task.kind})
    record(
        session,
        system_actor(),
        action=f"job.{task.status}",
        object_type=task.object_type,
        object_id=task.object_id,
        object_org_id=task.object_org_id,
        detail={"job": task.id, "kind": task.kind, "error": error.code},
    )


def _recovered(session: Session, task: Task, outcome: str) -> None:
    record(
        session,
        system_actor(),
        action="job.recover",
        object_type=task.object_type,
        object_id=task.object_id,
        object_org_id=task.object_org_id,
        detail={"job": task.id, "kind": task.kind, "outcome": outcome},
    )


HOOKS = worker.Hooks(actor=_actor, settled=_settled, recovered=_recovered)


def run_one(ctx: Context, *, name: str) -> str | None:
    """Claims and runs one task; its id, or None when the queue is empty."""
    return worker.run_one(ctx, name, HOOKS)


def run_recover(ctx: Context, *, stale_seconds: int, me: str | None = None) -> list[str]:
    """Requeues (or fails) the tasks of dead workers, audited."""
    return queue.recover(ctx.db, stale_seconds=stale_seconds, recovered=_recovered, me=me)


def start_worker(ctx: Context, *, poll_seconds: float = 1.0) -> worker.Worker:
    """A worker thread of this process, already running; ``stop()`` it at shutdown."""
    runner = worker.Worker(ctx, HOOKS, poll_seconds=poll_seconds)
    runner.start()
    return runner
