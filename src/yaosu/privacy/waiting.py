"""What waits for whom in screening, for the inbox: the latest version of each of an
organisation's datasets that nobody has screened yet (for those who may screen it), or whose
newest screen is a proposal a reviewer has still to confirm (for those who may confirm it);
and the screens its reviewers confirmed (their history).

Two queries however many datasets: the organisation's datasets, then their latest versions'
screens. Each item is one ``decide`` allows (``dataset.screen``, ``dataset.review``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from yaosu.authorization.policy import decide
from yaosu.catalog import service as catalog
from yaosu.kernel.actor import Actor
from yaosu.privacy.models import Screen
from yaosu.tasks import service as tasks

SCREEN, CONFIRM = "screen", "confirm"


@dataclass(frozen=True)
class ScreenWork:
    """One dataset's latest version and the step it waits for: ``screen`` (no screen yet) or
    ``confirm`` (a proposal waits for the provider's reviewer)."""

    dataset_id: str
    title: str
    version: int
    step: str
    screen_id: str | None
    at: datetime  # when the version arrived, or the proposal, or (history) its confirmation
    personal: bool | None = None  # what the screen says (None before there is one)
    grade: str | None = None


def screens_to_do(session: Session, actor: Actor) -> list[ScreenWork]:
    """The screening work waiting for the actor, oldest first."""
    own = catalog.own_datasets(session, actor)
    if not own:
        return []
    stmt = select(
        Screen.dataset_id,
        Screen.id,
        Screen.status,
        Screen.created_at,
        Screen.personal,
        Screen.grade,
    ).where(
        or_(*(and_(Screen.dataset_id == d.id, Screen.version == d.latest_version) for d in own))
    )
    screens: dict[str, list[Any]] = {}
    for row in session.execute(stmt.order_by(Screen.created_at.desc())):
        screens.setdefault(row.dataset_id, []).append(row)
    work = []
    for ds in own:
        found = screens.get(ds.id, [])
        resource = catalog.resource(ds)
        if not found:
            if decide(actor, "dataset.screen", resource).allowed:
                work.append(
                    ScreenWork(ds.id, ds.title, ds.latest_version, SCREEN, None, ds.updated_at)
                )
        elif found[0].status != "confirmed" and decide(actor, "dataset.review", resource).allowed:
            # The newest screen is a proposal: a first one, or a new screen after a confirmed
            # one (a full scan after a fast one may find more).
            newest = found[0]
            work.append(
                ScreenWork(
                    ds.id,
                    ds.title,
                    ds.latest_version,
                    CONFIRM,
                    newest.id,
                    newest.created_at,
                    newest.personal,
                    newest.grade,
                )
            )
    if any(w.step == SCREEN for w in work):
        # A full screen queued or running in the background is under way: nothing to do yet.
        running = {
            t.object_id
            for t in tasks.list_tasks(session, actor, active_only=True, limit=100)
            if t.kind == "privacy.screen"
        }
        work = [w for w in work if not (w.step == SCREEN and w.dataset_id in running)]
    return sorted(work, key=lambda w: (w.at, w.dataset_id))


def screens_confirmed(session: Session, actor: Actor, *, limit: int = 20) -> list[ScreenWork]:
    """The screens of the organisation's datasets its reviewers confirmed, newest first, for
    an actor who may confirm them (``dataset.review``)."""
    own = {
        ds.id: ds
        for ds in catalog.own_datasets(session, actor)
        if decide(actor, "dataset.review", catalog.resource(ds)).allowed
    }
    if not own:
        return []
    stmt = (
        select(Screen)
        .where(Screen.dataset_id.in_(own), Screen.status == "confirmed")
        .order_by(Screen.reviewed_at.desc(), Screen.id)
        .limit(limit)
    )
    return [
        ScreenWork(
            s.dataset_id,
            own[s.dataset_id].title,
            s.version,
            CONFIRM,
            s.id,
            s.reviewed_at,
            s.personal,
            s.grade,
        )
        for s in session.scalars(stmt)
        if s.reviewed_at is not None
    ]
