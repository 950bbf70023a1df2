"""``yaosu jobs ...``: see, follow and cancel background jobs, or run a worker."""

from __future__ import annotations

import json
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yaosu.context import open_context
from yaosu.jobs import service
from yaosu.jobs.labels import JOB_STATE
from yaosu.jobs.models import FINAL
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import label

app = typer.Typer(help="后台任务 / background jobs", no_args_is_help=True)
console = Console()


def _status(status: str, lang: str) -> str:
    """The state's label, in the deployment's language, and its code (what scripts match)."""
    return f"{label(JOB_STATE, status).render(lang)} / {status}"


@app.command("list")
def list_(
    active: bool = typer.Option(False, "--active", help="只看未结束的 / only unfinished jobs"),
    on: str = typer.Option(None, "--object", help="对象 ID，如数据集 / object id, e.g. a dataset"),
) -> None:
    """列出后台任务 / List background jobs, newest first."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        found = service.list_jobs(session, system_actor(), object_id=on, active_only=active)
        rows = [
            (
                j.id,
                j.kind,
                j.object_id,
                _status(j.status, ctx.settings.default_locale),
                f"{j.progress:.0%}",
                j.stage,
                j.created_at,
            )
            for j in found
        ]
    table = Table(
        "ID",
        "类型 / kind",
        "对象 / object",
        "状态 / status",
        "进度",
        "阶段 / stage",
        "提交 / created",
    )
    for row in rows:
        table.add_row(*[str(v) for v in row])
    console.print(table)


@app.command("show")
def show(
    job_id: str = typer.Argument(..., help="任务 ID / job id"),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="跟随进度直到结束 / follow to the end"
    ),
) -> None:
    """查看任务，或跟随其进度 / Show a job, or follow its progress until it ends."""
    ctx = open_context()
    actor = system_actor()

    def load() -> dict[str, object]:
        with ctx.db.transaction() as session:
            job = service.get_job(session, actor, job_id)
            return {
                c: getattr(job, c)
                for c in ("status", "progress", "stage", "result", "error_zh", "error_en", "kind")
            }

    state = load()
    if follow and state["status"] not in FINAL:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task(str(state["kind"]), total=1.0)
            while state["status"] not in FINAL:
                bar.update(
                    task,
                    completed=float(state["progress"]),  # type: ignore[arg-type]
                    description=f"{state['kind']} {state['stage']}",
                )
                time.sleep(0.5)
                state = load()
            bar.update(task, completed=float(state["progress"]))  # type: ignore[arg-type]
    console.print(f"{job_id}: {_status(str(state['status']), ctx.settings.default_locale)}")
    if state["result"]:
        typer.echo(json.dumps(state["result"], ensure_ascii=False, indent=2))
    if state["error_zh"]:
        console.print(f"[red]{state['error_zh']}[/]\n[red]{state['error_en']}[/]")
    if state["status"] in ("failed", "cancelled"):
        raise typer.Exit(1)


@app.command("cancel")
def cancel(job_id: str = typer.Argument(..., help="任务 ID / job id")) -> None:
    """取消任务 / Cancel a job (a running one stops at its next progress report)."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        job = service.cancel(session, system_actor(), job_id)
        status = job.status
    console.print(f"{job_id}: {_status(status, ctx.settings.default_locale)}")


@app.command("work")
def work(
    once: bool = typer.Option(
        False, "--once", help="处理完队列即退出 / exit when the queue is empty"
    ),
) -> None:
    """在前台运行任务处理进程 / Run a job worker in the foreground (when the web process runs none)."""
    ctx = open_context()
    name = service.worker_name()
    service.recover(ctx.db, stale_seconds=ctx.settings.job_stale_seconds, me=name)
    done = 0
    while True:
        ran = service.run_one(ctx, name)
        if ran is not None:
            done += 1
            continue
        if once:
            break
        time.sleep(1)
        service.recover(ctx.db, stale_seconds=ctx.settings.job_stale_seconds, me=name)
    console.print(f"处理了 {done} 个任务 / ran {done} jobs")
