"""Rendering a console page: one Jinja environment over every domain's templates, the
user's language, the CSRF token, and what the actor can do (``can``, from ``decide``) with
the navigation it implies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from yaosu.authorization.policy import Resource, decide
from yaosu.console import i18n, steps
from yaosu.kernel.actor import Actor
from yaosu.kernel.i18n import label, localise, translations
from yaosu.web.deps import ANONYMOUS, locale
from yaosu.web.errors import audit_refusal

ROOT = Path(__file__).resolve().parent.parent


def N_(message: str) -> str:
    """Marks a message for the catalog without translating it yet."""
    return message


DOMAINS = (
    "console",
    "accounts",
    "catalog",
    "privacy",
    "authorization",
    "access",
    "rights",
    "audit",
    "inbox",
    "market",
    "lineage",
    "compute",
)


@cache
def environment() -> Environment:
    loaders = [FileSystemLoader(ROOT / d / "templates") for d in DOMAINS]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


# What the console asks about the actor alone, once per render (action: resource type). The
# navigation reads the answers, and every template as ``can[action]``; a page adds what it
# asks about its own objects (``render(..., can={...})``, each decided with the object's
# ``Resource``). Templates ask ``can``, never a role.
ACTIONS = {
    "dataset.create": "dataset",
    "requests.read": "console",
    "reviews.read": "console",
}


def abilities(actor: Actor) -> dict[str, bool]:
    """``can`` for ``ACTIONS``: each action decided for the actor, about its organisation."""
    return {
        action: decide(actor, action, Resource(kind, "*", actor.org_id)).allowed
        for action, kind in ACTIONS.items()
    }


def nav(actor: Actor, can: Mapping[str, bool]) -> list[tuple[str, str]]:
    """(path, label msgid) pairs for the top navigation."""
    if actor is ANONYMOUS:
        return [
            ("/catalog", N_("Catalog")),
            ("/market", N_("Market")),
            ("/algorithms", N_("Algorithms & compute")),  # the public register of filings
            ("/notices", N_("Public notices")),
        ]
    items = [("/home", N_("Home")), ("/inbox", N_("Inbox")), ("/catalog", N_("Catalog"))]
    items.append(("/market", N_("Market")))
    items.append(("/compute/jobs", N_("Algorithms & compute")))
    if can["dataset.create"]:
        items.append(("/datasets/new", N_("New dataset")))
    if can["requests.read"]:
        items.append(("/requests", N_("Requests")))
    if can["reviews.read"]:
        items.append(("/reviews", N_("Reviews")))
    items.append(("/contracts", N_("Contracts")))
    items.append(("/rights", N_("Rights")))
    items.append(("/audit", N_("Audit log")))
    items.append(("/org", N_("Organisation")))
    items.append(("/tokens", N_("API tokens")))
    return items


def _fill(text: str, params: Mapping[str, Any]) -> str:
    """A translated template text with its named parameters (``%(name)s``, as Jinja's i18n
    extension writes them); without parameters the text is left as it is."""
    return text % params if params else text


# Counts beside navigation items (path -> count(request, actor)), registered by the page's
# own package (the inbox's "waiting for you"). Asked only when base.html draws the navigation,
# so a fragment (an htmx swap, a polling progress bar) costs nothing.
BADGES: dict[str, Callable[[Request, Actor], int]] = {}


def _badges(request: Request, actor: Actor) -> Callable[[str], int]:
    seen: dict[str, int] = {}

    def badge(href: str) -> int:
        count = BADGES.get(href)
        if count is None or actor is ANONYMOUS:
            return 0
        if href not in seen:
            seen[href] = count(request, actor)
        return seen[href]

    return badge


def done(target: str, code: str) -> RedirectResponse:
    """After a form that worked: to the page where the user goes on, which says what happened
    and what comes next (the step registered as ``code`` in ``yaosu.console.steps``)."""
    assert code in steps.STEPS, code
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}done={quote(code)}", status_code=303)


def render(
    request: Request, actor: Actor, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = locale(request)
    tr = translations(lang)
    can = {**abilities(actor), **context.pop("can", {})}
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            actor=actor,
            signed_in=actor is not ANONYMOUS,
            lang=lang,
            _=lambda text, **params: _fill(tr.gettext(text), params),
            gettext=tr.gettext,
            ngettext=lambda one, many, n, **params: _fill(
                tr.ngettext(one, many, n), {"num": n, **params}
            ),
            label=lambda kind, code: label(kind, code).render(lang),
            label_list=lambda kind, codes: localise([label(kind, c) for c in codes], lang),
            csrf_token=getattr(request.state, "csrf_token", ""),
            nav=nav(actor, can),
            badge=_badges(request, actor),
            next_step=steps.landing(request, can),
            can=can,
            path=request.url.path,
            here=quote(
                str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
            ),
            number=lambda v: i18n.format_number(v, lang),
            estimate=lambda v, spread=None: i18n.format_estimate(v, spread, lang),
            spread=lambda v: i18n.format_spread(v, lang),
            money=lambda v: i18n.format_money(v, lang),
            when=lambda v: i18n.format_datetime(v, lang),
            size=lambda v: i18n.format_bytes(v, lang),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def back_with_error(
    request: Request, target: str, exc: Any, *, session: Session | None
) -> RedirectResponse:
    """After a refused form post: back to the page, which shows the error in the user's
    language (the page reads ``?error=``). A refusal is audited here, once (see
    ``yaosu.web.errors.audit_refusal``): pass the page's session, or None when it has none."""
    audit_refusal(request, exc, session)
    return RedirectResponse(
        f"{target}?error={quote(exc.message(locale(request)))}", status_code=303
    )


def login_redirect(request: Request) -> RedirectResponse:
    target = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def safe_next(value: str | None) -> str:
    """Only local paths: an open redirect would let a phishing link borrow our login page."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/home"


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path not in (
        "/openapi.json",
        "/healthz",
    )
