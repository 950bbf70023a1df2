"""Background tasks: large scans and de-identifications run in the background, report
progress, survive a restart (resumed or failed cleanly, never left running), can be
cancelled, and are visible only to whom they concern."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import actor, auth, dataset_id
from yaosu.audit.models import AuditEntry
from yaosu.catalog.models import Dataset
from yaosu.context import Context
from yaosu.kernel.errors import JobCancelled, JobFinished, NotFound
from yaosu.kernel.tasks.models import Task
from yaosu.privacy import derivations
from yaosu.privacy import service as privacy
from yaosu.privacy.models import Derivation, Screen
from yaosu.tasks import service as tasks

RECIPE = {"columns": {"姓名": {"op": "drop"}, "身份证号": {"op": "pseudonymise"}}}


@pytest.fixture
def background(ctx: Context) -> Context:
    """Versions above 100 rows run in the background; no worker thread runs unless asked."""
    ctx.settings = ctx.settings.model_copy(update={"background_rows": 100, "task_workers": 0})
    return ctx


def _residents(ctx: Context) -> str:
    return dataset_id(ctx, "参保人员")


def _task(ctx: Context, task_id: str) -> Task:
    with ctx.db.transaction() as session:
        task = session.get(Task, task_id)
        assert task is not None
        session.expunge(task)
        return task


def _actions(ctx: Context, action: str) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        )


def test_a_large_full_scan_is_a_task_that_records_its_screen(background: Context) -> None:
    ctx = background
    analyst, residents = actor(ctx, "bureau-analyst"), _residents(ctx)
    created = _actions(ctx, "job.create")
    with ctx.db.transaction() as session:
        small = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=residents,
            number=None,
            mode="fast",
        )
        made = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=residents,
            number=None,
            mode="full",
        )
    assert isinstance(small, Screen)  # a fast screen reads a bounded sample: always at once
    assert isinstance(made, Task) and made.status == "queued" and made.kind == "privacy.screen"
    assert tasks.run_one(ctx, name=tasks.worker_name()) == made.id
    done = _task(ctx, made.id)
    assert done.status == "done" and done.progress == 1.0 and done.attempts == 1
    with ctx.db.transaction() as session:
        screen = session.get(Screen, done.result["screen"])
        assert screen is not None and screen.mode == "full" and screen.personal is True
    assert tasks.run_one(ctx, name=tasks.worker_name()) is None  # the queue is empty
    assert _actions(ctx, "job.create") == created + 1  # the demo's own compute tasks before


def test_the_api_answers_202_and_the_worker_finishes_the_task(
    background: Context, app_client: TestClient
) -> None:
    ctx = background
    worker = tasks.start_worker(ctx, poll_seconds=0.1)
    try:
        headers = auth(ctx, "bureau-analyst")
        made = app_client.post(
            f"/api/v1/datasets/{_residents(ctx)}/versions/1/deidentify",
            json=RECIPE,
            headers=headers,
        )
        assert made.status_code == 202, made.text
        task = made.json()
        assert made.headers["location"] == f"/api/v1/tasks/{task['id']}"
        assert task["status"] in ("queued", "running") and task["kind"] == "privacy.deidentify"
        deadline = time.monotonic() + 60
        while task["status"] not in ("done", "failed", "cancelled"):
            assert time.monotonic() < deadline, task
            time.sleep(0.1)
            task = app_client.get(f"/api/v1/tasks/{task['id']}", headers=headers).json()
        assert task["status"] == "done" and task["error"] is None, task
        result = task["result"]
        assert result["source_version"] == 1 and result["result_version"] == 2
        versions = app_client.get(
            f"/api/v1/datasets/{_residents(ctx)}/versions", headers=headers
        ).json()
        newest = max(versions["items"], key=lambda v: v["number"])
        columns = {c["name"] for c in newest["columns"]}
        assert "姓名" not in columns and "身份证号" in columns
        listed = app_client.get(
            "/api/v1/tasks", params={"object_id": _residents(ctx)}, headers=headers
        ).json()
        assert [j["id"] for j in listed["items"]] == [task["id"]]
    finally:
        worker.stop()


def test_a_bad_recipe_is_refused_at_once_and_queues_nothing(
    background: Context, app_client: TestClient
) -> None:
    ctx = background
    with ctx.db.transaction() as session:  # the demo world's own (its compute jobs' tasks)
        before = session.scalar(select(func.count()).select_from(Task))
    bad = app_client.post(
        f"/api/v1/datasets/{_residents(ctx)}/versions/1/deidentify",
        json={"columns": {"没有这列": {"op": "drop"}}},
        headers=auth(ctx, "bureau-analyst"),
    )
    assert bad.status_code == 422 and "没有这列" in bad.json()["error"]["message"]
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == before


def test_tasks_are_seen_and_cancelled_only_by_whom_they_concern(
    background: Context, app_client: TestClient
) -> None:
    ctx = background
    headers = auth(ctx, "bureau-analyst")
    task = app_client.post(
        f"/api/v1/datasets/{_residents(ctx)}/versions/1/screens?mode=full", headers=headers
    ).json()
    path = f"/api/v1/tasks/{task['id']}"
    assert app_client.get(path, headers=auth(ctx, "coop-manager")).status_code == 404
    assert app_client.get(path, headers=auth(ctx, "cac-inspector")).status_code == 200
    assert app_client.post(path + "/cancel", headers=auth(ctx, "cac-inspector")).status_code == 403
    assert app_client.get("/api/v1/tasks", headers=auth(ctx, "coop-manager")).json()["total"] == 0
    cancelled = app_client.post(path + "/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["error"]["code"] == "JOB_CANCELLED"
    again = app_client.post(path + "/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "JOB_FINISHED"
    english = app_client.get(path, headers=headers | {"Accept-Language": "en"}).json()
    assert english["error"]["message"].startswith("Background job")


def test_cancelling_a_running_task_keeps_nothing(background: Context) -> None:
    ctx = background
    analyst, residents = actor(ctx, "bureau-analyst"), _residents(ctx)
    with ctx.db.transaction() as session:
        task = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=residents,
            number=None,
            mode="full",
        )
        before = session.scalar(select(func.count()).select_from(Screen))
    assert isinstance(task, Task)
    worker = tasks.worker_name()
    assert tasks.claim(ctx.db, worker) == task.id
    with ctx.db.transaction() as session:
        tasks.cancel(session, analyst, task_id=task.id)
    run = tasks.Run(ctx.db, task.id)
    with pytest.raises(JobCancelled):
        run.progress(0.5, "scanning")
    # The worker's own path: the handler stops at its first progress report.
    with ctx.db.transaction() as session:
        session.get(Task, task.id).status = "queued"  # type: ignore[union-attr]
    assert tasks.run_one(ctx, name=worker) == task.id
    assert _task(ctx, task.id).status == "cancelled"
    with ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Screen)) == before
        with pytest.raises(JobFinished):
            tasks.cancel(session, analyst, task_id=task.id)


def test_a_failure_inside_the_final_transaction_leaves_no_version(
    background: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = background
    analyst = actor(ctx, "bureau-analyst")
    made = privacy.run_deidentify_request(
        ctx, analyst, dataset_id=_residents(ctx), number=None, recipe_doc=RECIPE
    )
    assert isinstance(made, Task)

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(derivations, "_save", broken)  # the derivation saves its re-screen
    tasks.run_one(ctx, name=tasks.worker_name())
    failed = _task(ctx, made.id)
    assert failed.status == "failed" and failed.error_code == "INTERNAL_ERROR"
    with ctx.db.transaction() as session:
        ds = session.get(Dataset, _residents(ctx))
        assert ds is not None and ds.latest_version == 1
        assert session.scalar(select(func.count()).select_from(Derivation)) == 0


def test_a_database_error_in_a_task_is_stored_as_the_table_translates_it(
    background: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import sqlalchemy.exc

    ctx = background
    analyst = actor(ctx, "bureau-analyst")
    made = privacy.run_deidentify_request(
        ctx, analyst, dataset_id=_residents(ctx), number=None, recipe_doc=RECIPE
    )
    assert isinstance(made, Task)

    def locked(*args: object, **kw: object) -> None:
        raise sqlalchemy.exc.OperationalError(
            "INSERT INTO screens", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(derivations, "_save", locked)
    tasks.run_one(ctx, name=tasks.worker_name())
    failed = _task(ctx, made.id)
    assert failed.status == "failed" and failed.error_code == "BUSY"  # was INTERNAL_ERROR
    assert failed.error_zh == "系统繁忙，请稍后重试。"
    assert failed.error_en == "The system is busy; try again shortly."


def test_a_task_whose_worker_was_killed_is_resumed_then_failed_cleanly(
    background: Context,
) -> None:
    """A real worker process claims the task and is killed -9 mid-run; recovery puts the task
    back in the queue, and after MAX_ATTEMPTS such deaths fails it with JOB_INTERRUPTED."""
    ctx = background
    analyst, residents = actor(ctx, "bureau-analyst"), _residents(ctx)
    with ctx.db.transaction() as session:
        task = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=residents,
            number=None,
            mode="full",
        )
    assert isinstance(task, Task)
    claimer = (
        "import sys, time\n"
        "from yaosu.kernel.db import Database\n"
        "from yaosu.kernel.settings import Settings\n"
        "from yaosu.kernel.tasks.queue import claim\n"
        "from yaosu.kernel.tasks.worker import worker_name\n"
        "db = Database(Settings(home=sys.argv[1], database_url=sys.argv[2]))\n"
        "print(claim(db, worker_name()), flush=True)\n"
        "time.sleep(600)\n"
    )
    for attempt in range(1, tasks.MAX_ATTEMPTS + 1):
        proc = subprocess.Popen(
            [sys.executable, "-c", claimer, str(ctx.settings.home), ctx.settings.db_url],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == task.id
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert _task(ctx, task.id).status == "running"  # what a crash leaves behind
        assert tasks.run_recover(ctx, stale_seconds=3600) == [task.id]
        after = _task(ctx, task.id)
        if attempt < tasks.MAX_ATTEMPTS:
            assert after.status == "queued" and after.attempts == attempt
        else:
            assert after.status == "failed" and after.error_code == "JOB_INTERRUPTED"
            assert "重启" in (after.error_zh or "") and after.finished_at is not None
    assert _actions(ctx, "job.recover") == tasks.MAX_ATTEMPTS


def test_a_live_worker_elsewhere_is_trusted_until_its_heartbeat_stops(
    background: Context,
) -> None:
    ctx = background
    analyst, residents = actor(ctx, "bureau-analyst"), _residents(ctx)
    with ctx.db.transaction() as session:
        task = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=residents,
            number=None,
            mode="full",
        )
    assert isinstance(task, Task)
    assert tasks.claim(ctx.db, "another-host:4242:abcd") == task.id
    assert tasks.run_recover(ctx, stale_seconds=3600) == []  # fresh heartbeat: alive
    assert tasks.run_recover(ctx, stale_seconds=0) == [task.id]  # silent: taken as dead
    assert tasks.run_one(ctx, name=tasks.worker_name()) == task.id
    assert _task(ctx, task.id).status == "done"


def test_a_deactivated_submitter_cannot_run_their_task(background: Context) -> None:
    from yaosu.accounts.models import User

    ctx = background
    analyst, residents = actor(ctx, "bureau-analyst"), _residents(ctx)
    with ctx.db.transaction() as session:
        task = privacy.request_screen(
            session,
            analyst,
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=residents,
            number=None,
            mode="full",
        )
        user = session.get(User, analyst.id)
        assert user is not None
        user.is_active = False
    assert isinstance(task, Task)
    tasks.run_one(ctx, name=tasks.worker_name())
    failed = _task(ctx, task.id)
    assert failed.status == "failed" and failed.error_code == "AUTH_REQUIRED"


def test_unknown_tasks_are_not_found(background: Context) -> None:
    with background.db.transaction() as session, pytest.raises(NotFound):
        tasks.get_task(session, actor(background, "bureau-analyst"), task_id="task_nope")


def test_migration_0011_keeps_every_task(background: Context) -> None:
    """The table was ``jobs`` until 0011: its rows survive the rename both ways."""
    from alembic import command
    from sqlalchemy import inspect, text

    from yaosu.kernel.db import alembic_config

    ctx = background
    with ctx.db.engine.connect() as conn:  # the demo world's own tasks (its compute jobs')
        before = conn.execute(text("SELECT id, status FROM tasks")).all()
    with ctx.db.transaction() as session:
        made = privacy.request_screen(
            session,
            actor(ctx, "bureau-analyst"),
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=_residents(ctx),
            number=None,
            mode="full",
        )
    assert isinstance(made, Task)
    config = alembic_config(ctx.db.engine)
    command.downgrade(config, "0010")
    tables = set(inspect(ctx.db.engine).get_table_names())
    assert "jobs" in tables and "tasks" not in tables
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status FROM jobs")).all()
        assert sorted(rows) == sorted([*before, (made.id, "queued")])
    command.upgrade(config, "head")
    assert "jobs" not in set(inspect(ctx.db.engine).get_table_names())
    assert _task(ctx, made.id).kind == "privacy.screen"
    assert {ix["name"] for ix in inspect(ctx.db.engine).get_indexes("tasks")} == {
        "ix_tasks_created_by",
        "ix_tasks_object_id",
        "ix_tasks_object_org_id",
        "ix_tasks_status",
    }


def test_a_late_worker_does_not_fail_a_task_requeued_meanwhile(background: Context) -> None:
    """A worker elsewhere went silent, so its task was requeued; when that worker's handler
    then fails, the requeued task stays queued for its next run (it was once marked failed)."""
    from yaosu.kernel.errors import Internal
    from yaosu.kernel.tasks import worker

    ctx = background
    with ctx.db.transaction() as session:
        made = privacy.request_screen(
            session,
            actor(ctx, "bureau-analyst"),
            store=ctx.store,
            settings=ctx.settings,
            dataset_id=_residents(ctx),
            number=None,
            mode="full",
        )
    assert isinstance(made, Task)
    assert tasks.claim(ctx.db, "another-host:4242:abcd") == made.id
    assert tasks.run_recover(ctx, stale_seconds=0) == [made.id]
    worker._settle(ctx.db, tasks.HOOKS, made.id, Internal(request_id=made.id))
    assert _task(ctx, made.id).status == "queued"
    assert tasks.run_one(ctx, name=tasks.worker_name()) == made.id
    assert _task(ctx, made.id).status == "done"
