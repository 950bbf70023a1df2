"""The app's state, the request's locale and transaction, and who is asking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from yaosu.accounts import credentials
from yaosu.context import Context
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import AuthRequired
from yaosu.kernel.i18n import LOCALE_COOKIE, negotiate
from yaosu.web.security import csrf_refusal

SESSION_COOKIE = "yaosu_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ANONYMOUS = Actor(id="anonymous", username="anonymous", org_id=None, scopes=frozenset({"read"}))


def app_context(request: Request) -> Context:
    return request.app.state.yaosu


ContextDep = Annotated[Context, Depends(app_context)]


def locale(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
        app_context(request).settings.default_locale,
    )


def get_session(ctx: ContextDep, request: Request) -> Any:
    # Kept on the request while it is open, so what a page's frame shows beside the page
    # (the navigation's counts) reads in the page's own transaction.
    with ctx.db.transaction() as session:
        request.state.db_session = session
        try:
            yield session
        finally:
            request.state.db_session = None


# scope="function": the transaction commits before the response is sent. FastAPI's default
# ("request") commits after it, so a client could be told "201 created" for a write whose
# commit then failed, and its next request could arrive before the commit (seen as a 404 for
# a dataset just created).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def optional_actor(request: Request, ctx: ContextDep) -> Actor:
    """Bearer token, else console session cookie (CSRF-checked on unsafe methods), else anonymous.

    Resolved in its own short transaction, so long requests (uploads) hold no lock, and in
    the thread pool: a database wait must never block the event loop, or under load every
    request in flight stalls behind it."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await run_in_threadpool(_token_actor, ctx, header[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = await run_in_threadpool(_session_actor, ctx, cookie)
        if found is not None:
            console, actor = found
            if request.method in UNSAFE:
                presented = request.headers.get("x-csrf-token")
                content_type = request.headers.get("content-type", "")
                if presented is None and content_type.startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")
                ):
                    form = await request.form()
                    value = form.get("csrf_token")
                    presented = value if isinstance(value, str) else None
                if not credentials.check_csrf(console, presented):
                    raise csrf_refusal(actor, console.id)
            request.state.console_session_id = console.id
            request.state.csrf_token = console.csrf_token
            request.state.actor = actor
            return actor
    return ANONYMOUS


def client_address(request: Request) -> str | None:
    """The peer's address, as the server sees it. Forwarded headers are not trusted: behind a
    proxy, run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips``."""
    return request.client.host if request.client else None


def _token_actor(ctx: Context, secret: str) -> Actor:
    with ctx.db.transaction() as session:
        return credentials.actor_from_token(session, secret=secret)


def _session_actor(ctx: Context, cookie: str) -> Any:
    with ctx.db.transaction() as session:
        return credentials.session_actor(session, secret=cookie)


async def current_actor(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
    if actor is ANONYMOUS:
        raise AuthRequired()
    return actor


class LoginRequired(Exception):
    """A console page was asked for without a session: the handler sends the user to log in."""


async def page_actor(actor: Annotated[Actor, Depends(optional_actor)]) -> Actor:
    if actor is ANONYMOUS:
        raise LoginRequired()
    return actor


OptionalActor = Annotated[Actor, Depends(optional_actor)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]  # console pages: log in first, then back
