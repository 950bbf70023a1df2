"""The inbox page, and the count the navigation shows beside it on every page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from yaosu.console import render as console
from yaosu.inbox import service
from yaosu.kernel.actor import Actor
from yaosu.web.deps import PageActor, SessionDep, app_context, locale

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox_page(request: Request, actor: PageActor, session: SessionDep) -> Response:
    lang = locale(request)
    found = service.collect(session, actor)
    sections = {
        section: [service.shown(item, lang) for item in items] for section, items in found.items()
    }
    return console.render(
        request,
        actor,
        "inbox.html",
        sections=sections,
        counted=service.COUNTED,
        waiting=sum(len(sections[s]) for s in service.COUNTED),
    )


def nav_count(request: Request, actor: Actor) -> int:
    """The navigation's count, read in the page's own transaction when it has one."""
    session: Session | None = getattr(request.state, "db_session", None)
    if session is not None:
        return service.count(session, actor)
    with app_context(request).db.transaction() as own:  # an error page has no session
        return service.count(own, actor)


console.BADGES["/inbox"] = nav_count
