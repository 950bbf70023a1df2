"""What every route shares: the app's state, dependencies, and the one error shape."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator
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
    InvalidInput,
    YaosuError,
)
from yaosu.kernel.i18n import LOCALE_COOKIE, N_, Message, negotiate

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


# scope="function": the transaction commits before the response is sent. FastAPI's default
# ("request") commits after it, so a client could be told "201 created" for a write whose
# commit then failed, and its next request could arrive before the commit (seen as a 404 for
# a dataset just created).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


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
    from yaosu.authorization.policy import Denial, Resource, deny

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


# --- parameter types every route shares -----------------------------------------------------

# Every integer a client sends is bounded to what the databases store (a signed 64-bit integer):
# an unbounded one reaches SQLite or psycopg as an overflow, i.e. a 500. tests/test_api_contract.py
# fails on any integer parameter or body field declared without both bounds.
MAX_INT = 2**63 - 1

MAX_INT32 = 2**31 - 1  # an INTEGER column (version numbers): PostgreSQL's int4

PathIndex = Annotated[int, Path(ge=0, le=MAX_INT)]  # a 0-based position (log entry, tree size)
PathNumber = Annotated[int, Path(ge=1, le=MAX_INT32)]  # a 1-based version number
QueryOffset = Annotated[int, Query(ge=0, le=MAX_INT)]

# Times are ISO 8601 / RFC 3339 date-times (a time without a zone is taken as UTC); pydantic on
# its own also takes "0.5" or "1700000000" as seconds since 1970, which no one means in a URL.
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _iso_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _ISO_DATETIME.fullmatch(value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError as exc:
            raise ValueError(f"时间无效 / not a valid time: {value!r}") from exc
    else:
        raise ValueError(
            "时间须为 ISO 8601 格式，如 2026-01-13T08:00:00+08:00 / "
            "a time must be ISO 8601, e.g. 2026-01-13T08:00:00+08:00"
        )
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted out of range by its zone offset
        return EARLIEST if parsed.year < 1970 else LATEST
    # Nothing happened before 1970 or after 9998: a bound outside is the same as that end, and
    # clamping keeps year-1 and year-9999 times away from the databases' own date limits.
    return min(max(parsed, EARLIEST), LATEST)


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


# PostgreSQL refuses NUL in text (SQLite stores it, so the two backends disagreed) and no
# database can encode half a surrogate pair ("\ud800" is valid JSON): refused at the door, 422,
# for every route, rather than as a 500 from the driver halfway through a request.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = (
    "文本不能包含 NUL 字符或不成对的 UTF-16 代理码位 / "
    "text must not contain NUL characters or unpaired UTF-16 surrogates"
)


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
            raise InvalidInput(problem=f"{found}: {UNSTORABLE_TEXT}", fields=[found])


class JSONLDResponse(JSONResponse):
    """JSON-LD documents (DCAT, ODRL): declared as ``application/ld+json`` in the OpenAPI."""

    media_type = "application/ld+json"


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


class ErrorInfo(BaseModel):
    code: str
    message: str
    detail: Any = None


class ErrorPublic(BaseModel):
    """The one error shape, declared on every operation for every status the error hierarchy
    uses (see ``declare_errors``)."""

    ok: Literal[False] = False
    error: ErrorInfo


def error_statuses() -> dict[int, list[str]]:
    """Every HTTP status a ``YaosuError`` can answer with (but 500), and the codes behind it."""
    found: dict[int, set[str]] = {}
    pending: list[type[YaosuError]] = [YaosuError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls not in (YaosuError, _HttpError) and cls.status != 500:  # a 500 is a bug
            found.setdefault(cls.status, set()).add(cls.code)
    return {status: sorted(codes) for status, codes in sorted(found.items())}


def declare_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses to every operation of an OpenAPI document (in place).

    FastAPI declares only its own 422 body, which is not what the handlers above send; every
    operation can answer with any error of the hierarchy (authentication, authorization, a
    missing object, a state conflict, invalid input, a busy database), so all are declared
    here, once, with the one error schema."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    defs = ErrorPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs", {}))
    schemas["ErrorPublic"] = defs
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
    statuses = error_statuses()
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, codes in statuses.items():
                key = str(status)
                if key not in responses or key == "422":
                    responses[key] = {"description": ", ".join(codes), "content": content}
    return spec


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
        return _respond(request, InvalidInput(problem=summary, fields=fields))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI could not parse the body at all
            return _respond(request, InvalidInput(problem=UNPARSABLE_BODY))
        response = _respond(request, _HttpError(status=exc.status_code, text=str(exc.detail)))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:  # RFC 9110 15.5.6: every method the resource supports
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

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


UNPARSABLE_BODY = (
    "请求体无法解析（须为 UTF-8 编码的 JSON）/ the body could not be parsed (UTF-8 JSON)"
)


def _allowed_methods(request: Request) -> list[str]:
    """Starlette's 405 names only the first route that matched the path (and FastAPI's nested
    routers none at all); a path served by several routes (GET and POST /orgs) allows them all.
    Where the OpenAPI documents the path, the resource is its most specific template: GET
    /datasets/vocabulary is not also PATCH /datasets/{dataset_id}."""
    from starlette.routing import Match

    routes = request.app.router.routes  # FastAPI nests included routers: ask, per method
    served = [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    path = request.url.path
    documented: dict[int, set[str]] = {}
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods = {m.upper() for m in operations}
            documented.setdefault(template.count("{"), set()).update(methods)
    if not documented:
        return served
    methods = documented[min(documented)]
    return [m for m in served if m in methods or (m == "HEAD" and "GET" in methods)]


class _HttpError(YaosuError):
    """Starlette's own 404 (no such route) and 405, in our shape and the reader's language
    (Starlette's reason phrase, "Not Found", is English whatever the page's language)."""

    en = "{text} (HTTP {status})"
    TEXTS: ClassVar[dict[int, str]] = {
        404: N_("There is nothing at this address."),
        405: N_("This address does not take this kind of request."),
    }

    def __init__(self, *, status: int, text: str) -> None:
        super().__init__(
            status=status, text=Message(self.TEXTS[status]) if status in self.TEXTS else text
        )
        self.status = status  # type: ignore[misc]
        self.code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, f"HTTP_{status}")  # type: ignore[misc]


def audit_refusal(request: Request, exc: BaseException, session: Session | None = None) -> None:
    """The one deny entry of a refused request, whichever way it is answered: by the error
    handler (no ``session``: its own transaction, the caller's having been rolled back) or by
    a console page that shows the refusal itself (its ``session``, which commits; on SQLite a
    second transaction would wait for the page's own write lock). Written once per refusal."""
    from yaosu.authorization.policy import record_denial

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
