"""Console page of the audit log: search entries, see which a signed checkpoint covers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from yaosu.audit import entries, log
from yaosu.authorization.policy import Resource, enforce
from yaosu.console.render import render
from yaosu.web.deps import PageActor, SessionDep

router = APIRouter(include_in_schema=False)
PAGE = 50
BEIJING = ZoneInfo("Asia/Shanghai")


@router.get("/audit")
def audit_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    actor_id: Annotated[str, Query(max_length=64)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    enforce(actor, "audit.view", Resource("audit", "log", None))
    # The form's datetime-local fields carry no zone: they are the user's (Beijing) time.
    since, until = (
        t.replace(tzinfo=BEIJING) if t is not None and t.tzinfo is None else t
        for t in (since, until)
    )
    items, total = entries.list_entries(
        session,
        actor,
        limit=PAGE,
        offset=(page - 1) * PAGE,
        actor_id=actor_id or None,
        object_id=object_id or None,
        action=action or None,
        since=since,
        until=until,
    )
    latest = log.latest_checkpoint(session)
    return render(
        request,
        actor,
        "audit.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        signed=latest.size if latest else 0,
        checkpoint=latest,
        actor_id=actor_id,
        object_id=object_id,
        action=action,
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
    )
