"""Task states: a StrEnum with one transition table; every other move is IllegalTransition,
through the helper and through the queue's real calls."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import yaosu
from yaosu.kernel.errors import IllegalTransition, JobFinished
from yaosu.kernel.tasks import queue
from yaosu.kernel.tasks.models import Task
from yaosu.kernel.tasks.states import ACTIVE, FINAL, TRANSITIONS, TaskState, advance

ALLOWED = {
    ("queued", "running"),
    ("queued", "cancelled"),
    ("running", "done"),
    ("running", "failed"),
    ("running", "cancelled"),
    ("running", "queued"),
}


def _task(status: str) -> Task:
    return Task(id="task_x", status=status)


def test_the_table_is_the_documented_machine() -> None:
    assert {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(ACTIVE) == {"queued", "running"} and set(FINAL) == {"done", "failed", "cancelled"}


@pytest.mark.parametrize("state", list(TaskState))
@pytest.mark.parametrize("target", list(TaskState))
def test_every_move_outside_the_table_is_refused(state: TaskState, target: TaskState) -> None:
    task = _task(state)
    if (state, target) in ALLOWED:
        advance(task, target)
        assert task.status == target
        return
    with pytest.raises(IllegalTransition) as refused:
        advance(task, target)
    assert task.status == state
    assert refused.value.status == 409 and refused.value.code == "ILLEGAL_TRANSITION"
    assert refused.value.message("en") == f"Task task_x is {state}; it cannot become {target}."
    assert refused.value.message("zh-CN").startswith("后台任务 task_x")


def test_the_queue_moves_only_through_the_table() -> None:
    """Completing a task that is not running (a requeued one, say) is refused rather than
    marked done; cancelling an ended one keeps its own, more helpful error."""
    with pytest.raises(IllegalTransition):
        queue.Run.complete(queue.Run(None, "task_x"), _FakeSession(_task("queued")), {})  # type: ignore[arg-type]
    with pytest.raises(JobFinished):
        queue.cancel(_task("done"))
    queued = _task("queued")
    queue.cancel(queued)
    assert queued.status == "cancelled" and queued.error_code == "JOB_CANCELLED"


class _FakeSession:
    def __init__(self, task: Task) -> None:
        self.task = task

    def get(self, _model: object, _id: str) -> Task:
        return self.task


def test_kernel_tasks_import_no_domain() -> None:
    """Background tasks are infrastructure: policy, audit and accounts come in as hooks."""
    src = Path(yaosu.__file__).resolve().parent
    allowed = ("yaosu.kernel", "yaosu.context")
    found = []
    for path in sorted((src / "kernel" / "tasks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("yaosu"):
                if not (node.module or "").startswith(allowed):
                    found.append(f"{path.name}: {node.module}")
            elif isinstance(node, ast.Import):
                found += [
                    f"{path.name}: {a.name}"
                    for a in node.names
                    if a.name.startswith("yaosu") and not a.name.startswith(allowed)
                ]
    assert found == []
