"""Console pages of the frame itself: the home page per role, language switch, assets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from yaosu.accounts import service as accounts
from yaosu.audit import log
from yaosu.audit.entries import latest_entries
from yaosu.authorization import service as authorization
from yaosu.authorization.policy import Resource, decide
from yaosu.catalog import service as catalog
from yaosu.console.render import render, safe_next
from yaosu.inbox import service as inbox
from yaosu.kernel.i18n import LOCALE_COOKIE, Message, _, label, localise
from yaosu.web.deps import ANONYMOUS, OptionalActor, PageActor, SessionDep, locale

router = APIRouter(include_in_schema=False)


@router.get("/", include_in_schema=False)
def root(actor: OptionalActor) -> RedirectResponse:
    return RedirectResponse("/catalog" if actor is ANONYMOUS else "/home", status_code=303)


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    value = "en" if code.lower().startswith("en") else "zh-CN"
    response.set_cookie(LOCALE_COOKIE, value, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# The home page's sections, each shown when ``decide`` allows its action.
HOME = (
    "home.datasets",
    "home.usable",
    "reviews.read",
    "home.openings",
    "requests.read",
    "home.oversight",
    "home.health",
)


@router.get("/home")
def home(request: Request, actor: PageActor, session: SessionDep) -> Response:
    user = accounts.find_user(session, user_id=actor.id)
    org = accounts.find_org(session, org_id=actor.org_id)
    sections: dict[str, object] = {}
    here = Resource("console", "home", actor.org_id, {"departments": (catalog.OPENING_NOTIFIES,)})
    can = {action: decide(actor, action, here).allowed for action in HOME}
    if can["home.datasets"]:
        mine = catalog.list_datasets(session, actor, provider=actor.org_id, limit=50)
        sections["provider"] = [catalog.public(session, ds=d) for d in mine.items]
    if can["home.usable"]:
        usable = catalog.list_datasets(session, actor, openness="open", limit=20)
        sections["usable"] = [catalog.public(session, ds=d) for d in usable.items]
    lang = locale(request)
    if can["reviews.read"]:
        # Reminders: what awaits this organisation's review, urgent and soonest due first, in
        # the inbox's sentences.
        waiting = inbox.items_of(session, actor, kind="review_request")
        sections["reviews"] = {
            "waiting": [inbox.shown(item, lang) for item in waiting[:5]],
            "total": len(waiting),
        }
    if can["home.openings"]:
        # Notices: important or core data a provider opened, newest first.
        opened = latest_entries(session, actor, action="dataset.open", limit=200)
        notices = [e for e in opened if actor.department in (e.detail or {}).get("notify", ())]
        titles = catalog.dataset_titles(session, ids={e.object_id for e in notices})
        sections["openings"] = {"items": notices[:10], "titles": titles}
    if can["requests.read"]:
        held = [
            c
            for c in authorization.list_contracts(session, actor)
            if c.consumer_org_id == actor.org_id
        ][:5]
        titles = catalog.dataset_titles(session, ids={d for c in held for d in c.datasets})
        names = accounts.org_names(session, ids={p for c in held for p in c.provider_org_ids})
        sections["contracts"] = [
            {
                "c": c,
                "state": authorization.status_of(c),
                "datasets": localise([titles.get(d, "") for d in c.datasets], lang),
                "providers": localise([names.get(p, "") for p in c.provider_org_ids], lang),
            }
            for c in held
        ]
    if can["home.oversight"]:
        latest = log.latest_checkpoint(session)
        recent = list(latest_entries(session, actor, limit=8))
        sections["oversight"] = {
            "orgs": accounts.count_orgs(session),
            "datasets": catalog.count_datasets(session),
            "entries": log.size(session),
            "signed": latest.size if latest else 0,
            "recent": _activity(session, recent, lang),
        }
    if can["home.health"]:
        latest = log.latest_checkpoint(session)
        # O(log n): the stored tree still adds up to the last signed root (`yaosu audit check`
        # is the full scan).
        intact = latest is None or log.root(session, tree_size=latest.size).hex() == latest.root
        sections["health"] = {
            "database": session.get_bind().dialect.name,
            "size": log.size(session),
            "signed": latest.size if latest else 0,
            "integrity": "intact" if intact else "TAMPERED",
        }
    return render(
        request,
        actor,
        "home.html",
        display_name=user.display_name if user else actor.username,
        org_name=org.name if org else "",
        kinds=org.kinds if org else [],
        department=org.department if org else None,
        sections=sections,
        can=can,
    )


def _activity(session: Session, entries: list[Any], lang: str) -> list[dict[str, Any]]:
    """Audit entries as sentences: who (a person or organisation by name), did what (in
    words), to what (a dataset or organisation by name, else the kind of object); the codes
    and ids stay in the title attributes."""
    users = accounts.user_names(session, ids={e.actor_id for e in entries})
    orgs = accounts.org_names(session)
    titles = catalog.dataset_titles(
        session, ids={e.object_id for e in entries if e.object_type == "dataset"}
    )
    out = []
    for e in entries:
        who: Message | str = users.get(e.actor_id) or (
            _("the platform's operator") if e.actor_id.startswith("system:") else _("someone")
        )
        what: Message | str = (
            titles.get(e.object_id)
            or (orgs.get(e.object_id) if e.object_type == "organisation" else None)
            or label("resource_type", e.object_type)
        )
        org = orgs.get(e.actor_org_id or "")
        if org:
            who = _("{person} ({org})", person=who, org=org)
        out.append(
            {
                "entry": e,
                "who": localise(who, lang),
                "action": label("audit_action", e.action).render(lang),
                "what": localise(what, lang),
            }
        )
    return out
