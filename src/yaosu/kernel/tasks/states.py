"""The states of a background task and the moves between them.

queued → running → done | failed | cancelled; queued → cancelled (cancelled before it ran);
running → queued (its worker died and it is run again from the start). Nothing leaves an end.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from yaosu.kernel.i18n import _
from yaosu.kernel.states import transition


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.QUEUED: frozenset({TaskState.RUNNING, TaskState.CANCELLED}),
    TaskState.RUNNING: frozenset(
        {TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED, TaskState.QUEUED}
    ),
    TaskState.DONE: frozenset(),
    TaskState.FAILED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}
ACTIVE = frozenset(s for s, targets in TRANSITIONS.items() if targets)
FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


class _Stateful(Protocol):
    id: str
    status: str


def advance(task: _Stateful, target: TaskState) -> None:
    """Moves ``task`` to ``target`` through ``kernel.states.transition``, the one check of a
    move, so a forbidden one is the same ``IllegalTransition`` as every domain's.

    >>> class T:
    ...     id, status = "task_1", "done"
    >>> advance(T(), TaskState.CANCELLED)
    Traceback (most recent call last):
    ...
    yaosu.kernel.errors.IllegalTransition: Task task_1 is done; it cannot become cancelled.
    """
    task.status = transition(TRANSITIONS, task.status, target, what=_("Task"), id=task.id)
