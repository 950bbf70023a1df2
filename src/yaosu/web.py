"""What every route shares: the app's state, dependencies, and the one error shape."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from yaosu.accounts import service as accounts
from yaosu.context import Context as State
from yaosu.kernel.actor import Actor
from yaosu.kernel.errors import (
    AuthRequired,
    Busy,
    Conflict,
    CsrfFailed,
    Internal,
    YaosuError,
)
from yaosu.kernel.i18n import LOCALE_COOKIE, negotiate

log = logging.getLogger("yaosu")
SESSION_COOKIE = "yaosu_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ANONYMOUS = Actor(id="anonymous", username="anonymous", org_id=None, scopes=frozenset({"read"}))


def state(request: Request) -> State:
    return request.app.state.yaosu


StateDep = Annotated[State, Depends(state)]


def locale(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LOCALE_COOKIE),
        request.headers.get("accept-language"),
        state(request).settings.default_locale,
    )


def get_session(st: StateDep) -> Any:
    with st.db.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def optional_actor(request: Request, st: StateDep) -> Actor:
    """Bearer token, else console session cookie (CSRF-checked on unsafe methods), else anonymous.

    Resolved in its own short transaction, so long requests (uploads) hold no lock, and in
    the thread pool: a database wait must never block the event loop, or under load every
    request in flight stalls behind it."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await run_in_threadpool(_token_actor, st, header[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = await run_in_threadpool(_session_actor, st, cookie)
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
                if not accounts.check_csrf(console, presented):
                    raise _csrf_refusal(actor, console.id)
            request.state.console_session_id = console.id
            request.state.csrf_token = console.csrf_token
            request.state.actor = actor
            return actor
    return ANONYMOUS


def _csrf_refusal(actor: Actor, console_id: str) -> CsrfFailed:
    """A signed-in session's unsafe request without its CSRF token is a refusal like any
    other, audited once (a forged cross-site post shows up in the victim's log)."""
    from yaosu.authorization.service import Denial, Resource, deny

    error = CsrfFailed()
    error.denial = Denial(
        actor,
        "session.csrf",
        Resource("session", console_id, actor.org_id),
        deny("CSRF 校验失败", "the CSRF check failed"),
    )
    return error


def client_address(request: Request) -> str | None:
    """The peer's address, as the server sees it. Forwarded headers are not trusted: behind a
    proxy, run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips``."""
    return request.client.host if request.client else None


def _token_actor(st: State, secret: str) -> Actor:
    with st.db.transaction() as session:
        return accounts.actor_from_token(session, secret)


def _session_actor(st: State, cookie: str) -> Any:
    with st.db.transaction() as session:
        return accounts.session_actor(session, cookie)


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


# --- errors --------------------------------------------------------------------------------


def error_response(error: YaosuError, lang: str) -> JSONResponse:
    body = {
        "ok": False,
        "error": {
            "code": error.code,
            "message": error.message(lang),
            "detail": _plain(error.detail),
        },
    }
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    if "retry_after" in error.detail:  # a throttled request says when to come back
        headers["Retry-After"] = str(error.detail["retry_after"])
    return JSONResponse(body, status_code=error.status, headers=headers or None)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


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


def _respond(request: Request, error: YaosuError) -> Response:
    """JSON for the API, the error page for the console, in the user's language."""
    from yaosu.console.render import render, wants_html

    if wants_html(request) and not request.headers.get("hx-request"):
        actor = getattr(request.state, "actor", ANONYMOUS)
        return render(
            request,
            actor,
            "error.html",
            status=error.status,
            message=error.message(locale(request)),
            code=error.code,
        )
    return error_response(error, locale(request))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(YaosuError)
    async def _yaosu(request: Request, exc: YaosuError) -> Response:
        if exc.denial is not None:  # a database write: never on the event loop
            await run_in_threadpool(audit_refusal, request, exc)
        return _respond(request, exc)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        from yaosu.console.render import login_redirect

        return login_redirect(request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        fields = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "problem": e.get("msg"),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
        from yaosu.kernel.errors import InvalidInput

        return _respond(request, InvalidInput(problem=summary, fields=fields))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _respond(request, _HttpError(status=exc.status_code, text=str(exc.detail)))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return error_response(Conflict(what="记录 / record", value="?"), locale(request))

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc.orig)
        return error_response(Busy(), locale(request))

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.error("no database connection free: %s", exc)
        return error_response(Busy(), locale(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        request_id = secrets.token_hex(6)
        log.exception("unexpected error, request %s", request_id)
        return _respond(request, Internal(request_id=request_id))


class _HttpError(YaosuError):
    """Starlette's own 404 (no such route) and 405, in our shape."""

    zh = "请求无效（HTTP {status}）：{text}"
    en = "Bad request (HTTP {status}): {text}"

    def __init__(self, *, status: int, text: str) -> None:
        super().__init__(status=status, text=text)
        self.status = status  # type: ignore[misc]
        self.code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, f"HTTP_{status}")  # type: ignore[misc]


def audit_refusal(request: Request, exc: BaseException, session: Session | None = None) -> None:
    """The one deny entry of a refused request, whichever way it is answered: by the error
    handler (no ``session``: its own transaction, the caller's having been rolled back) or by
    a console page that shows the refusal itself (its ``session``, which commits; on SQLite a
    second transaction would wait for the page's own write lock). Written once per refusal."""
    from yaosu.authorization.service import record_denial

    if getattr(exc, "denial", None) is None:
        return
    where = {"method": request.method, "path": request.url.path}
    try:
        if session is not None:
            with session.begin_nested():
                record_denial(session, exc, where)
        else:
            with state(request).db.transaction() as own:
                record_denial(own, exc, where)
    except Exception:  # the user still gets their 403/404; the failure is logged loudly
        log.exception("could not write the audit entry for a denial")
