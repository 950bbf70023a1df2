"""Inbox items from background tasks: the actor's own tasks that ended lately. A failed one
is watched until a later run of the same kind on the same object succeeds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from yaosu.inbox.registry import Item, Kind, Words, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message, _, label
from yaosu.tasks import service as tasks

RECENT_DAYS = 7

# Objects whose domain tells of their tasks' ends in items of its own.
OWN_ITEMS = {"compute_job"}
# Where a task's object is worked on, by object type.
PAGES = {"dataset": "/datasets/{id}/privacy"}


def _ended(session: Session, actor: Actor, now: datetime) -> tuple[list[Any], list[Any]]:
    """(failed and not since redone, the rest), newest first: one query."""
    found = [  # a compute job's task is told of by the job's own item (kinds/compute.py)
        t
        for t in tasks.finished_tasks(session, actor, since=now - timedelta(days=RECENT_DAYS))
        if t.object_type not in OWN_ITEMS
    ]
    failed: list[Any] = []
    rest: list[Any] = []
    for i, task in enumerate(found):
        redone = any(
            t.status == "done" and t.kind == task.kind and t.object_id == task.object_id
            for t in found[:i]  # newer
        )
        (failed if task.status == "failed" and not redone else rest).append(task)
    return failed, rest


def _what(task: Any, words: Words) -> dict[str, Any]:
    subject: Message | str = (
        words.dataset(task.object_id) if task.object_type == "dataset" else _("an object")
    )
    return {"task": label("job_kind", task.kind), "object": subject}


def _href(task: Any) -> str:
    page = PAGES.get(task.object_type)
    return page.format(id=task.object_id) if page else "/home"


def _count_failed(session: Session, actor: Actor, *, now: datetime) -> int:
    return len(_ended(session, actor, now)[0])


def _failed(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    failed, _rest = _ended(session, actor, now)
    return [
        Item(
            "task_failed",
            _(
                "The background task “{task}” on “{object}” failed: {error} Run it again when the cause is fixed.",
                error={"zh": t.error_zh or "", "en": t.error_en or ""},
                **_what(t, words),
            ),
            _href(t),
            at=t.finished_at,
            urgent=True,
            ref=t.id,
        )
        for t in failed
    ]


def _finished(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    _failed_ones, rest = _ended(session, actor, now)
    said = {
        "done": _("The background task “{task}” on “{object}” finished."),
        "cancelled": _("The background task “{task}” on “{object}” was cancelled."),
        "failed": _(
            "The background task “{task}” on “{object}” failed, and a later run succeeded."
        ),
    }
    return [
        Item(
            "task_ended",
            Message(said[t.status].id, _what(t, words)),
            _href(t),
            at=t.finished_at,
            ref=t.id,
        )
        for t in rest
        if t.status in said
    ]


register(Kind("task_failed", "watch", _failed, _count_failed))
register(Kind("task_ended", "news", _finished))
