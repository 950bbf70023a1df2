"""Background jobs: a queue in the database and an in-process worker.

A domain registers a handler for a kind of job (``privacy.screen``, ``privacy.deidentify``).
A handler must be safe to run again from the start: it does its slow work outside any
transaction and commits its effect in one transaction together with ``run.complete(...)``,
so after a crash either the whole effect and the job's completion are there, or neither.
That is what lets a restart *resume* a job (run it again) without doubling anything.

The worker claims one queued job at a time, keeps a heartbeat while it runs, and reports
progress. A running job whose heartbeat stops (the process died) is put back in the queue,
up to ``MAX_ATTEMPTS`` times, and then failed with ``JobInterrupted``; nothing is left
hanging in "running".
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
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yaosu.audit.service import record
from yaosu.authorization.policy import Resource, enforce, record_denial
from yaosu.context import Context
from yaosu.jobs.models import FINAL, Job
from yaosu.kernel.actor import Actor, system_actor
from yaosu.kernel.db import Database, utcnow
from yaosu.kernel.errors import (
    Internal,
    JobCancelled,
    JobFinished,
    JobInterrupted,
    NotFound,
    YaosuError,
)
from yaosu.kernel.i18n import _
from yaosu.kernel.ids import new_id

log = logging.getLogger("yaosu.jobs")
MAX_ATTEMPTS = 3
HEARTBEAT_SECONDS = 5.0


class Run:
    """What a running job can tell the world: how far it got, and whether it must stop."""

    def __init__(self, db: Database, job_id: str) -> None:
        self.db = db
        self.job_id = job_id
        self._last = 0.0

    def progress(self, fraction: float, stage: str = "") -> None:
        """Records progress (at most twice a second) and stops the job if it was cancelled."""
        now = time.monotonic()
        if now - self._last < 0.5 and fraction < 1:
            return
        self._last = now
        with self.db.transaction() as session:
            job = session.get(Job, self.job_id)
            if job is None:
                return
            if job.cancel_requested:
                raise JobCancelled(id=self.job_id)
            job.progress = max(0.0, min(1.0, fraction))
            job.stage = stage[:200]
            job.heartbeat_at = utcnow()

    def complete(self, session: Session, result: dict[str, Any]) -> None:
        """Marks the job done inside the caller's transaction, the one that commits its effect."""
        job = session.get(Job, self.job_id)
        if job is None:
            return
        job.status, job.progress, job.stage = "done", 1.0, ""
        job.result = result
        job.finished_at = utcnow()


HandlerFn = Callable[[Context, Actor, dict[str, Any], Run], dict[str, Any]]


@dataclass(frozen=True)
class Handler:
    kind: str
    run: HandlerFn


HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[HandlerFn], HandlerFn]:
    def register(fn: HandlerFn) -> HandlerFn:
        if kind in HANDLERS:
            raise ValueError(f"a job handler for {kind} is already registered")
        HANDLERS[kind] = Handler(kind, fn)
        return fn

    return register


def resource(job: Job) -> Resource:
    return Resource("job", job.id, job.object_org_id, {"created_by": job.created_by})


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
) -> Job:
    if kind not in HANDLERS:
        raise ValueError(f"no job handler for {kind}")
    job = Job(
        id=new_id("job"),
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
        status="queued",
        progress=0.0,
        stage="",
        attempts=0,
        cancel_requested=False,
    )
    session.add(job)
    session.flush()
    record(
        session,
        actor,
        "job.create",
        object_type,
        object_id,
        object_org_id=object_org_id,
        request={"kind": kind, "params": params},
        detail={"job": job.id, "kind": kind},
    )
    return job


def get_job(session: Session, actor: Actor, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(kind=_("Background job"), id=job_id)
    enforce(actor, "job.view", resource(job))
    return job


def list_jobs(
    session: Session,
    actor: Actor,
    *,
    object_id: str | None = None,
    active_only: bool = False,
    limit: int = 50,
) -> list[Job]:
    """Jobs the actor may see, newest first (oversight sees all)."""
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(max(1, min(limit, 500)))
    if object_id is not None:
        stmt = stmt.where(Job.object_id == object_id)
    if active_only:
        stmt = stmt.where(Job.status.in_(("queued", "running")))
    if not (actor.is_system or actor.has_kind("regulator") or actor.has_kind("platform")):
        from sqlalchemy import or_

        stmt = stmt.where(or_(Job.created_by == actor.id, Job.object_org_id == actor.org_id))
    return [j for j in session.scalars(stmt) if _may_view(actor, j)]


def _may_view(actor: Actor, job: Job) -> bool:
    from yaosu.authorization.policy import decide

    return decide(actor, "job.view", resource(job)).allowed


def cancel(session: Session, actor: Actor, job_id: str) -> Job:
    """A queued job is cancelled at once; a running one stops at its next progress report."""
    job = get_job(session, actor, job_id)
    enforce(actor, "job.cancel", resource(job))
    if job.status in FINAL:
        raise JobFinished(id=job.id, status=job.status)
    job.cancel_requested = True
    if job.status == "queued":
        _finish_failed(job, JobCancelled(id=job.id), status="cancelled")
    record(
        session,
        actor,
        "job.cancel",
        job.object_type,
        job.object_id,
        object_org_id=job.object_org_id,
        request={"job": job.id},
        detail={"job": job.id, "status": job.status},
    )
    return job


def _finish_failed(job: Job, error: YaosuError, *, status: str = "failed") -> None:
    job.status = status
    job.error_code = error.code
    job.error_zh = error.message("zh-CN")
    job.error_en = error.message("en")
    job.finished_at = utcnow()
    job.stage = ""


# --- the worker ----------------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(db: Database, worker: str) -> str | None:
    """Takes the oldest queued job: exactly one worker gets it, on either backend."""
    with db.transaction() as session:
        stmt = select(Job.id).where(Job.status == "queued").order_by(Job.created_at, Job.id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        job_id = session.scalar(stmt.limit(1))
        if job_id is None:
            return None
        now = utcnow()
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(
                status="running",
                worker=worker,
                started_at=now,
                heartbeat_at=now,
                attempts=Job.attempts + 1,
            )
        )
        return job_id if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def run_one(ctx: Context, worker: str) -> str | None:
    """Claims and runs one job; returns its id, or None when the queue is empty."""
    job_id = claim(ctx.db, worker)
    if job_id is None:
        return None
    with ctx.db.transaction() as session:
        job = session.get(Job, job_id)
        assert job is not None
        kind, params, actor_doc = job.kind, dict(job.params), dict(job.actor)
    run = Run(ctx.db, job_id)
    beat = _Heartbeat(ctx.db, job_id)
    beat.start()
    try:
        handler_ = HANDLERS.get(kind)
        if handler_ is None:
            raise Internal(request_id=job_id)
        with ctx.db.transaction() as session:
            actor = _actor(session, actor_doc)
        result = handler_.run(ctx, actor, params, run)
    except JobCancelled as exc:
        _settle(ctx.db, job_id, exc, status="cancelled")
    except YaosuError as exc:
        _settle(ctx.db, job_id, exc)
    except Exception:
        log.exception("job %s (%s) failed", job_id, kind)
        _settle(ctx.db, job_id, Internal(request_id=job_id))
    else:
        with ctx.db.transaction() as session:
            job = session.get(Job, job_id)
            if job is not None and job.status == "running":  # the handler did not complete it
                Run(ctx.db, job_id).complete(session, result)
    finally:
        beat.stop()
    return job_id


def _settle(db: Database, job_id: str, error: YaosuError, *, status: str = "failed") -> None:
    with db.transaction() as session:
        job = session.get(Job, job_id)
        if job is None or job.status in FINAL:
            return
        _finish_failed(job, error, status=status)
        # A job refused by decide() writes its deny entry too, with the failure.
        record_denial(session, error, {"job": job.id, "kind": job.kind})
        record(
            session,
            system_actor(),
            f"job.{status}",
            job.object_type,
            job.object_id,
            object_org_id=job.object_org_id,
            detail={"job": job.id, "kind": job.kind, "error": error.code},
        )


def _actor(session: Session, doc: dict[str, Any]) -> Actor:
    """The submitter as they are now: a user since deactivated cannot run their jobs."""
    if doc["via"] == "cli" and str(doc["id"]).startswith("system:"):
        return Actor(id=doc["id"], username=doc["username"], org_id=None, via="cli")
    from yaosu.accounts.models import User
    from yaosu.accounts.service import actor_for
    from yaosu.kernel.errors import AuthRequired

    user = session.get(User, doc["id"])
    if user is None or not user.is_active:
        raise AuthRequired()
    scopes = frozenset(doc["scopes"]) if doc.get("scopes") is not None else None
    return actor_for(session, user, scopes=scopes, via=doc["via"], token_id=doc.get("token_id"))


class _Heartbeat:
    """Touches the running job's heartbeat while the handler works, so that a live job is
    never mistaken for a dead one during a long step that reports no progress."""

    def __init__(self, db: Database, job_id: str) -> None:
        self.db, self.job_id = db, job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

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
                        update(Job)
                        .where(Job.id == self.job_id, Job.status == "running")
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a busy database delays one beat; the next one tries again
                log.warning("heartbeat of job %s skipped", self.job_id, exc_info=True)


def _alive_here(worker: str | None) -> bool:
    """Whether the worker that holds a job is a live process on this machine (None: unknown)."""
    if not worker:
        return False
    host, _skip, rest = worker.partition(":")
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


def recover(db: Database, *, stale_seconds: int, me: str | None = None) -> list[str]:
    """Running jobs whose worker is gone go back to the queue, or fail after MAX_ATTEMPTS.

    A job is taken as dead when its worker process on this machine no longer exists, or when
    its heartbeat is older than ``stale_seconds`` (a worker on another machine).
    """
    recovered = []
    cutoff = utcnow() - timedelta(seconds=stale_seconds)
    with db.transaction() as session:
        running = list(session.scalars(select(Job).where(Job.status == "running")))
        for job in running:
            if job.worker == me:
                continue
            dead = not _alive_here(job.worker) or (
                job.heartbeat_at is not None and job.heartbeat_at < cutoff
            )
            if not dead:
                continue
            if job.attempts >= MAX_ATTEMPTS:
                _finish_failed(job, JobInterrupted(id=job.id, attempts=job.attempts))
                outcome = "failed"
            else:
                job.status, job.worker, job.stage = "queued", None, ""
                job.progress = 0.0
                outcome = "requeued"
            record(
                session,
                system_actor(),
                "job.recover",
                job.object_type,
                job.object_id,
                object_org_id=job.object_org_id,
                detail={"job": job.id, "kind": job.kind, "outcome": outcome},
            )
            recovered.append(job.id)
    return recovered


class Worker:
    """Runs queued jobs in a background thread of this process until stopped."""

    def __init__(self, ctx: Context, *, poll_seconds: float = 1.0) -> None:
        self.ctx = ctx
        self.name = worker_name()
        self.poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="yaosu-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        last_recovery = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_recovery > 5:
                    recover(
                        self.ctx.db, stale_seconds=self.ctx.settings.job_stale_seconds, me=self.name
                    )
                    last_recovery = time.monotonic()
                if run_one(self.ctx, self.name) is not None:
                    continue
            except Exception:  # keep the worker alive; the job itself has been settled
                log.exception("job worker step failed")
            self._stop.wait(self.poll)
