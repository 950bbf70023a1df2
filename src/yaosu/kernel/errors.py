"""The one error hierarchy. Every error a user can see is a ``YaosuError`` subclass.

Each class carries a stable ``code``, an HTTP ``status`` and a message template ``en``,
which is its gettext message id (the Chinese lives in ``kernel/locale``); the inputs that
explain the error are kept in ``detail`` and fill the template, and a detail may itself be
a ``Message``, rendered in the same language. ``yaosu.api`` turns any of them into the one JSON shape
``{"ok": false, "error": {"code", "message", "detail"}}``.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from yaosu.kernel.i18n import Message, _


class YaosuError(Exception):
    code: ClassVar[str] = "YAOSU_ERROR"
    status: ClassVar[int] = 400
    en: ClassVar[str] = "The request could not be completed."

    denial: Any = None  # set by authorization.enforce: what was refused, for the audit log

    def __init__(self, **detail: Any) -> None:
        self.detail = detail
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh-CN") -> str:
        return Message(self.en, self.detail).render(locale)


# --- generic -------------------------------------------------------------------------------


class NotFound(YaosuError):
    code = "NOT_FOUND"
    status = 404
    en = "{kind} {id} was not found, or you may not see it."


class Conflict(YaosuError):
    code = "CONFLICT"
    status = 409
    en = "{what} already exists: {value}."


class IllegalTransition(YaosuError):
    code = "ILLEGAL_TRANSITION"
    status = 409
    en = "{what} {id} is {state}; it cannot become {target}."


class NotNow(YaosuError):
    """A step the object's state does not allow yet, or any more, for a reason other than
    its state machine (that is ``IllegalTransition``)."""

    code = "NOT_NOW"
    status = 409
    en = "{what} {id} cannot take this step now: {why}"


class Busy(YaosuError):
    code = "BUSY"
    status = 503
    en = "The system is busy; try again shortly."


class Internal(YaosuError):
    code = "INTERNAL_ERROR"
    status = 500
    en = "Internal server error, logged (request {request_id}). Please contact the platform."


class InvalidInput(YaosuError):
    code = "VALIDATION_ERROR"
    status = 422
    en = "Invalid input: {problem}"


# --- accounts and authorisation ------------------------------------------------------------


class AuthRequired(YaosuError):
    code = "AUTH_REQUIRED"
    status = 401
    en = "Log in first, or send a Bearer token in the Authorization header."


class InvalidCredentials(YaosuError):
    code = "INVALID_CREDENTIALS"
    status = 401
    en = "Wrong username or password."


class InvalidToken(YaosuError):
    code = "INVALID_TOKEN"
    status = 401
    en = "The API token is invalid, expired or revoked; create a new one."


class LoginThrottled(YaosuError):
    """Too many failed logins for this account or from this address. The same answer whether
    or not the account exists; ``retry_after`` (seconds) also goes out as ``Retry-After``."""

    code = "LOGIN_THROTTLED"
    status = 429
    en = "Too many failed logins; locked for now. Try again in {retry_after} seconds."


class CsrfFailed(YaosuError):
    code = "CSRF_FAILED"
    status = 403
    en = "The form expired or came from elsewhere (CSRF check failed); reload and try again."


class Forbidden(YaosuError):
    code = "FORBIDDEN"
    status = 403
    en = "Not allowed: {reason}"


class ScopeMissing(YaosuError):
    code = "SCOPE_MISSING"
    status = 403
    en = "This API token lacks the scope {scope}."


# --- audit ---------------------------------------------------------------------------------


class LogCorrupt(YaosuError):
    code = "AUDIT_LOG_CORRUPT"
    status = 503
    en = "The audit log failed its integrity check; checkpoints are stopped. Alert the platform and regulators: {problem}"


class BodyReadTimeout(YaosuError):
    code = "BODY_READ_TIMEOUT"
    status = 408
    en = "The request body stopped arriving for {seconds} s; the connection was closed and nothing was kept. Upload again."


class SchemaBehind(YaosuError):
    """The database is older than the code: nothing runs on it until it is migrated (an
    ordinary command never changes the schema as a side effect)."""

    code = "SCHEMA_BEHIND"
    status = 503
    en = "The database schema is at {current}, and this Yaosu needs {head}: run `yaosu db upgrade` first."


class SchemaAhead(YaosuError):
    code = "SCHEMA_AHEAD"
    status = 503
    en = "The database schema is at {current}, newer than this Yaosu ({head}): upgrade Yaosu first."


# --- background jobs -----------------------------------------------------------------------


class JobInterrupted(YaosuError):
    code = "JOB_INTERRUPTED"
    status = 409
    en = (
        "Background job {id} was interrupted by a restart {attempts} times and will not be "
        "retried; nothing partial was kept, and it can be submitted again."
    )


class JobCancelled(YaosuError):
    code = "JOB_CANCELLED"
    status = 409
    en = "Background job {id} was cancelled on request; nothing partial was kept."


class JobFinished(YaosuError):
    code = "JOB_FINISHED"
    status = 409
    en = "Background job {id} has already ended ({status}) and cannot be cancelled."


# --- governed use --------------------------------------------------------------------------


class QueryRefused(YaosuError):
    code = "QUERY_REFUSED"
    status = 403
    en = "The query was refused: {reason}"


class QueryFailed(YaosuError):
    code = "QUERY_FAILED"
    status = 422
    en = "The query failed while running ({what}); nothing was charged."


class QueryInvalid(QueryRefused):
    """A query refused for its form before it runs (it does not parse, mixes types, nests too
    deeply): 422, and nothing is charged."""

    code = "QUERY_INVALID"
    status = 422
    en = "The query cannot run: {reason}"


class QueryFailedCharged(QueryFailed):
    """A failure that happened while the query read the data: whether it fails can depend on
    the data, so it is not refunded (a free failure would be an oracle)."""

    code = "QUERY_FAILED_CHARGED"
    en = (
        "The query failed while reading the data ({what}). Whether it fails can depend on "
        "the data, so to keep failures from revealing it, this use and its ε were charged and "
        "are not refunded."
    )


# --- privacy -------------------------------------------------------------------------------


class StillPersonal(YaosuError):
    """A reviewer tried to declare a de-identified (not anonymised) version free of personal
    information."""

    code = "DEIDENTIFIED_STILL_PERSONAL"
    status = 422
    en = (
        "Version {version} is de-identified, which is still personal information (PIPL Art. 73): "
        "{reasons}. Only a version that meets the anonymisation standard ({standard}, "
        "k>={k}, l>={l}) counts as free of personal information; improve the recipe and derive "
        "a new version."
    )


# --- the ledger ----------------------------------------------------------------------------


class InsufficientFunds(YaosuError):
    code = "INSUFFICIENT_FUNDS"
    status = 409
    en = (
        "Ledger account {account} may not go below zero, and this transfer would take it "
        "there; nothing was posted."
    )


class IdempotencyConflict(YaosuError):
    code = "IDEMPOTENCY_CONFLICT"
    status = 409
    en = (
        "Idempotency key {key} was already used for a different transfer; repeat the original "
        "exactly, or use a new key. Nothing was posted."
    )


# --- translating library errors ------------------------------------------------------------
#
# The one place a library's exception becomes a ``YaosuError`` (for the API, the console, the
# CLI and the job worker). Classes are named by dotted path and looked at only once their
# module is loaded, so the kernel imports no library for them. The first entry the exception
# is an instance of wins: most specific first. A class that reaches a user only through a bug
# has no entry and is ``Internal``; tests/kernel/test_error_table.py names each one.

Factory = Callable[[Any], YaosuError]
BUSY: Factory = lambda exc: Busy()  # noqa: E731


def _value_does_not_fit(exc: Any) -> YaosuError:
    return InvalidInput(
        problem=_("a value does not fit where it is stored: too long, out of range or malformed")
    )


def _query_invalid(exc: Any) -> YaosuError:
    reason = _("the query could not be parsed or analysed")
    return QueryInvalid(reason=reason)


def _release_failed(exc: Any) -> YaosuError:
    what = _("adding noise to the answer failed")
    return QueryFailed(kind="release", seconds=0, what=what)


_TABLE: list[tuple[str | type[BaseException], Factory]] = [
    # SQLAlchemy: a lock, a serialization failure, a dropped connection or a full pool is the
    # database being busy (503, try again); a broken constraint is a conflict; a value that
    # does not fit its column is the input's fault. Every other SQLAlchemy error is a bug.
    ("sqlalchemy.exc.IntegrityError", lambda exc: Conflict(what=_("Record"), value="?")),
    ("sqlalchemy.exc.OperationalError", BUSY),
    ("sqlalchemy.exc.DataError", _value_does_not_fit),
    ("sqlalchemy.exc.InterfaceError", BUSY),
    ("sqlalchemy.exc.DisconnectionError", BUSY),
    ("sqlalchemy.exc.TimeoutError", BUSY),  # no connection free in the pool
    ("sqlalchemy.orm.exc.StaleDataError", BUSY),  # a row changed under a concurrent write
    # pydantic: a model built from what a person typed (console forms, CLI options)
    ("pydantic_core._pydantic_core.ValidationError", lambda exc: invalid_fields(exc.errors())),
    # DuckDB outside the governed query (which names its own failures): running out of
    # memory, being interrupted or failing to reach a file is the system being busy; a value
    # that does not convert is the input's fault.
    ("duckdb.OperationalError", BUSY),
    ("duckdb.InterruptException", BUSY),
    ("duckdb.DataError", _value_does_not_fit),
    ("sqlglot.errors.SqlglotError", _query_invalid),  # a query it cannot parse or analyse
    # OpenDP: releasing an answer with noise
    ("opendp.mod.OpenDPException", _release_failed),
    # pyarrow, where ingest lets it out: memory (catalog.ingest registers openpyxl's errors)
    ("pyarrow.lib.ArrowMemoryError", BUSY),
    ("pyarrow.lib.ArrowCancelled", BUSY),
    # Spark: an engine that cannot be reached or started outside a query
    ("py4j.protocol.Py4JError", BUSY),
    ("pyspark.errors.exceptions.base.PySparkException", BUSY),
]


def register(cls: str | type[BaseException], factory: Factory) -> None:
    """Translate ``cls`` (a class, or its dotted path) with ``factory``. Domains register the
    errors of their own libraries this way; the kernel imports no domain. Kept most specific
    first: an entry goes before the first one whose class it subclasses."""
    resolved = _resolve(cls)
    for i, (known, _factory) in enumerate(_TABLE):
        if known == cls:
            _TABLE[i] = (cls, factory)
            return
        other = _resolve(known)
        if resolved is not None and other is not None and issubclass(resolved, other):
            _TABLE.insert(i, (cls, factory))
            return
    _TABLE.append((cls, factory))


def translate(exc: BaseException, *, request_id: str | None = None) -> YaosuError:
    """The most specific ``YaosuError`` for ``exc``: itself if it is one, the table's entry for
    a library error, else ``Internal`` (a bug: the caller logs it with ``request_id``)."""
    if isinstance(exc, YaosuError):
        return exc
    for cls, factory in _TABLE:
        known = _resolve(cls)
        if known is not None and isinstance(exc, known):
            error = factory(exc)
            error.__cause__ = exc
            return error
    return Internal(request_id=request_id or secrets.token_hex(6))


def translated() -> tuple[type[BaseException], ...]:
    """The library classes with an entry whose module is loaded (for handlers keyed by class)."""
    found = (_resolve(cls) for cls, _factory in _TABLE)
    return tuple(cls for cls in found if cls is not None)


def invalid_fields(errors: Iterable[Mapping[str, Any]], *, skip: str | None = None) -> InvalidInput:
    """pydantic's errors as one ``InvalidInput``: the first five in the message, all in
    ``fields``. ``skip`` drops a location part that names no field (FastAPI's "body")."""
    fields = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if skip is None or p != skip),
            "problem": e.get("msg"),
        }
        for e in errors
    ]
    summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
    return InvalidInput(problem=summary, fields=fields)


def _resolve(cls: str | type[BaseException]) -> type[BaseException] | None:
    if isinstance(cls, type):
        return cls
    module_name, _dot, name = cls.rpartition(".")
    module = sys.modules.get(module_name)
    found = getattr(module, name, None) if module is not None else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None
