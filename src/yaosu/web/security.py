"""Response headers, the CSRF refusal, and text no database can store."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from fastapi import Request

from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import CsrfFailed, InvalidInput
from yaosu.kernel.i18n import _


def csrf_refusal(actor: Actor, console_id: str) -> CsrfFailed:
    """A signed-in session's unsafe request without its CSRF token is a refusal like any
    other, audited once (a forged cross-site post shows up in the victim's log)."""
    from yaosu.authorization.policy import Denial, Resource, deny

    error = CsrfFailed()
    error.denial = Denial(
        actor,
        "session.csrf",
        Resource("session", console_id, actor.org_id),
        deny(_("the CSRF check failed")),
    )
    return error


# PostgreSQL refuses NUL in text (SQLite stores it, so the two backends disagreed) and no
# database can encode half a surrogate pair ("\ud800" is valid JSON): refused at the door, 422,
# for every route, rather than as a 500 from the driver halfway through a request.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = _("text must not contain NUL characters or unpaired UTF-16 surrogates")


def _unstorable(value: Any, where: str) -> str | None:
    """Where ``value`` holds a string no database stores, if anywhere."""
    if isinstance(value, str):
        return where if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable(key, where) or _unstorable(item, f"{where}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _unstorable(item, f"{where}[{i}]")
            if found:
                return found
    return None


async def storable_text(request: Request) -> None:
    """App-wide dependency: path, query, JSON body and form fields hold storable text only.

    Bodies are looked at only where the route declares one (FastAPI has read and parsed it
    already): a raw upload is data, streamed to disk under its size limit, never read here."""
    places: list[tuple[str, Any]] = [(f"path.{k}", v) for k, v in request.path_params.items()]
    places += [(f"query.{k}", v) for k, v in request.query_params.multi_items()]
    declared = getattr(request.scope.get("route"), "body_field", None) is not None
    content_type = request.headers.get("content-type", "") if declared else ""
    if content_type.startswith("application/json"):
        with contextlib.suppress(ValueError):  # not JSON at all: the route's validation answers
            places.append(("body", await request.json()))
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        places += [(f"form.{k}", v) for k, v in form.multi_items() if isinstance(v, str)]
    for where, value in places:
        found = _unstorable(value, where)
        if found:
            raise InvalidInput(
                problem=_("{where}: {problem}", where=found, problem=UNSTORABLE_TEXT),
                fields=[found],
            )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


async def security_headers(request: Request, call_next: Any) -> Any:
    response = await call_next(request)
    if not request.url.path.startswith("/docs"):  # Swagger UI loads its own inline script
        response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith("/static/"):
        # Pages behind login, the login page, token secrets, data: nothing dynamic is kept by
        # a browser or proxy cache. Only the static assets (which carry no one's data) are.
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    return response
