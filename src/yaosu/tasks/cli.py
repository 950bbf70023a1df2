"""``yaosu tasks ...``: see, follow and cancel background tasks, or run a worker."""

from __future__ import annotations

import json
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from yaosu.context import open_context
from yaosu.kernel.actor import system_actor
from yaosu.kernel.i18n import _, cli_locale, label, say
from yaosu.kernel.tasks.states import FINAL, TaskState
from yaosu.tasks import service
from yaosu.tasks.labels import TASK_STATE

app = typer.Typer(help="后台任务 / background tasks", no_args_is_help=True)
console = Console()


def _status(status: str, lang: str) -> str:
    """The state's label, in the deployment's language, and its code (what scripts match)."""
    return f"{label(TASK_STATE, status).render(lang)} / {status}"


@app.command("list")
def list_(
    active: bool = typer.Option(False, "--active", help="只看未结束的 / only unfinished tasks"),
    on: str = typer.Option(None, "--object", help="对象 ID，如数据集 / object id, e.g. a dataset"),
) -> None:
    """列出后台任务 / List background tasks, newest first."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        found = service.list_tasks(session, system_actor(), object_id=on, active_only=active)
        rows = [
            (
                t.id,
                t.kind,
                t.object_id,
                _status(t.status, cli_locale()),
                f"{t.progress:.0%}",
                t.stage,
                t.created_at,
            )
            for t in found
        ]
    table = Table(
        "ID",
        say(_("kind")),
        say(_("object")),
        say(_("status")),
        say(_("progress")),
        say(_("stage")),
        say(_("created")),
    )
    for row in rows:
        table.add_row(*[str(v) for v in row])
    console.print(table)


@app.command("show")
def show(
    task_id: str = typer.Argument(..., help="任务 ID / task id"),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="跟随进度直到结束 / follow to the end"
    ),
) -> None:
    """查看任务，或跟随其进度 / Show a task, or follow its progress until it ends."""
    ctx = open_context()
    actor = system_actor()

    def load() -> dict[str, object]:
        with ctx.db.transaction() as session:
            task = service.get_task(session, actor, task_id=task_id)
            return {
                c: getattr(task, c)
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
            line = bar.add_task(str(state["kind"]), total=1.0)
            while state["status"] not in FINAL:
                bar.update(
                    line,
                    completed=float(state["progress"]),  # type: ignore[arg-type]
                    description=f"{state['kind']} {state['stage']}",
                )
                time.sleep(0.5)
                state = load()
            bar.update(line, completed=float(state["progress"]))  # type: ignore[arg-type]
    console.print(f"{task_id}: {_status(str(state['status']), cli_locale())}")
    if state["result"]:
        typer.echo(json.dumps(state["result"], ensure_ascii=False, indent=2))
    if state["error_zh"]:
        error = state["error_en"] if cli_locale() == "en" else state["error_zh"]
        console.print(f"[red]{error}[/]")
    if state["status"] in (TaskState.FAILED, TaskState.CANCELLED):
        raise typer.Exit(1)


@app.command("cancel")
def cancel(task_id: str = typer.Argument(..., help="任务 ID / task id")) -> None:
    """取消任务 / Cancel a task (a running one stops at its next progress report)."""
    ctx = open_context()
    with ctx.db.transaction() as session:
        task = service.cancel(session, system_actor(), task_id=task_id)
        status = task.status
    console.print(f"{task_id}: {_status(status, cli_locale())}")


@app.command("work")
def work(
    once: bool = typer.Option(
        False, "--once", help="处理完队列即退出 / exit when the queue is empty"
    ),
) -> None:
    """在前台运行任务处理进程 / Run a task worker in the foreground (when the web process runs none)."""
    ctx = open_context()
    name = service.worker_name()
    service.run_recover(ctx, stale_seconds=ctx.settings.task_stale_seconds, me=name)
    done = 0
    while True:
        ran = service.run_one(ctx, name=name)
        if ran is not None:
            done += 1
            continue
        if once:
            break
        time.sleep(1)
        service.run_recover(ctx, stale_seconds=ctx.settings.task_stale_seconds, me=name)
    console.print(say(_("ran {done} tasks", done=done)))
