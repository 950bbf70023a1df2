"""Inbox items from privacy screening: versions to screen, screens to confirm, and (the
reviewer's history) the screens confirmed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yaosu.inbox.registry import Item, Kind, Words, offers, register
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import Message, _, label
from yaosu.privacy import service as privacy


def _finding(work: privacy.ScreenWork) -> Message:
    if work.personal:
        return _("personal information found")
    return _("no personal information found")


def _work(session: Session, actor: Actor) -> list[privacy.ScreenWork]:
    return privacy.screens_to_do(session, actor) if offers(actor, "home.datasets") else []


def _count(session: Session, actor: Actor, *, now: datetime) -> int:
    return len(_work(session, actor))


def _to_do(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    items = []
    for w in _work(session, actor):
        if w.step == "screen":
            text = _(
                "Version {version} of “{dataset}” is not screened yet: screen it for personal information.",
                version=w.version,
                dataset=w.title,
            )
        else:
            text = _(
                "The screen of version {version} of “{dataset}” waits for your confirmation ({finding}; proposed grade: {grade}).",
                version=w.version,
                dataset=w.title,
                finding=_finding(w),
                grade=label("grade", w.grade),
            )
        items.append(
            Item(
                f"screen_{w.step}",
                text,
                f"/datasets/{w.dataset_id}/privacy",
                at=w.at,
                ref=w.screen_id or w.dataset_id,
            )
        )
    return items


def _history(session: Session, actor: Actor, *, now: datetime, words: Words) -> list[Item]:
    if not offers(actor, "home.datasets"):
        return []
    return [
        Item(
            "screen_confirmed",
            _(
                "The screen of version {version} of “{dataset}” was confirmed ({finding}; grade: {grade}).",
                version=w.version,
                dataset=w.title,
                finding=_finding(w),
                grade=label("grade", w.grade),
            ),
            f"/datasets/{w.dataset_id}/privacy",
            at=w.at,
            ref=w.screen_id or "",
        )
        for w in privacy.screens_confirmed(session, actor)
    ]


register(Kind("screen_work", "waiting", _to_do, _count))
register(Kind("screen_confirmed", "done", _history))
