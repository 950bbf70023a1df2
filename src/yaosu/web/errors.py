"""The one error shape: the handlers that answer with it, and its declaration in the OpenAPI."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any, ClassVar, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from yaosu.kernel import errors
from yaosu.kernel.errors import Internal, InvalidInput, YaosuError, invalid_fields, translate
from yaosu.kernel.i18n import N_, Message, _, localise
from yaosu.web.deps import ANONYMOUS, LoginRequired, app_context, locale

log = logging.getLogger("yaosu")


def error_response(error: YaosuError, lang: str) -> JSONResponse:
    body = {
        "ok": False,
        "error": {
            "code": error.code,
            "message": error.message(lang),
            "detail": _plain(error.detail, lang),
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


def _plain(value: Any, lang: str) -> Any:
    """A detail as JSON, its messages in the answer's language."""
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, dict):
        if value.keys() == {"zh", "en"}:
            return localise(value, lang)
        return {str(k): _plain(v, lang) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, lang) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


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


# FastAPI's own validation error is pydantic's, with the request part ("body") in its path.
errors.register(RequestValidationError, lambda exc: invalid_fields(exc.errors(), skip="body"))


def install_error_handlers(app: FastAPI) -> None:
    """One answer for every error: ``translate`` it, log it if it came from a library, audit a
    refusal, and answer JSON for the API or the error page for the console."""

    async def _translated(request: Request, exc: Exception) -> Response:
        error = translate(exc)
        if error is not exc:
            _log(exc, error)
        if error.denial is not None:  # a database write: never on the event loop
            await run_in_threadpool(audit_refusal, request, error)
        return _respond(request, error)

    # Handlers keyed by class run inside the app (its middleware still adds its headers); a
    # library loaded later (OpenDP, openpyxl, Spark) is translated by the last resort below.
    classes: list[type[Exception]] = [YaosuError]
    classes += [c for c in errors.translated() if issubclass(c, Exception)]
    for cls in classes:
        app.add_exception_handler(cls, _translated)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        from yaosu.console.render import login_redirect

        return login_redirect(request)

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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        error = translate(exc, request_id=secrets.token_hex(6))
        _log(exc, error)
        return _respond(request, error)


def _log(exc: BaseException, error: YaosuError) -> None:
    """A bug with its traceback and request id; a library error the table translated as a
    warning, or an error when the system is at fault (5xx)."""
    if isinstance(error, Internal):
        log.error("unexpected error, request %s", error.detail.get("request_id"), exc_info=exc)
        return
    level = logging.ERROR if error.status >= 500 else logging.WARNING
    log.log(
        level, "%s (answered %s): %s", type(exc).__name__, error.code, getattr(exc, "orig", exc)
    )


UNPARSABLE_BODY = _("the body could not be parsed (UTF-8 JSON)")


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
            with app_context(request).db.transaction() as own:
                record_denial(own, exc, where)
    except Exception:  # the user still gets their 403/404; the failure is logged loudly
        log.exception("could not write the audit entry for a denial")
