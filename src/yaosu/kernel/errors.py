"""The one error hierarchy. Every error a user can see is a ``YaosuError`` subclass.

Each class carries a stable ``code``, an HTTP ``status`` and a message template ``en``,
which is its gettext message id (the Chinese lives in ``kernel/locale``); the inputs that
explain the error are kept in ``detail`` and fill the template, and a detail may itself be
a ``Message``, rendered in the same language. ``yaosu.api`` turns any of them into the one JSON shape
``{"ok": false, "error": {"code", "message", "detail"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from yaosu.kernel.i18n import Message


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


# --- ingest --------------------------------------------------------------------------------


class IngestError(YaosuError):
    """Base of every reason a file cannot become a dataset version."""

    status = 422


class FileTooLarge(IngestError):
    code = "FILE_TOO_LARGE"
    status = 413
    en = "The file is larger than the limit ({limit_mb} MB)."


class EmptyFile(IngestError):
    code = "EMPTY_FILE"
    en = "The file is empty."


class NoDataRows(IngestError):
    code = "NO_DATA_ROWS"
    en = "The file has a header but no data rows."


class UnsupportedFormat(IngestError):
    code = "UNSUPPORTED_FORMAT"
    status = 415
    en = "Unsupported file format '{extension}'. Supported: CSV, TSV, XLSX, JSON, NDJSON, Parquet."


class FormatMismatch(IngestError):
    code = "FORMAT_MISMATCH"
    status = 415
    en = "The file is named '{extension}' but its content is {detected}. Fix the name and retry."


class UndetectableEncoding(IngestError):
    code = "UNDETECTABLE_ENCODING"
    en = "Cannot detect the file's encoding (UTF-8, GBK, GB18030 supported): undecodable near byte {offset}."


class EncodingError(IngestError):
    code = "ENCODING_ERROR"
    en = "The file reads as {encoding} but later bytes do not decode; it may mix encodings."


class RaggedRows(IngestError):
    code = "RAGGED_ROWS"
    en = "Row {line} has {got} columns but the header has {expected}."


class MalformedFile(IngestError):
    code = "MALFORMED_FILE"
    en = "The {format} file is malformed: {problem}"


class DuplicateColumns(IngestError):
    code = "DUPLICATE_COLUMNS"
    en = "Duplicate column names: {names}. Every column needs a unique name."


class EmptyColumnName(IngestError):
    code = "EMPTY_COLUMN_NAME"
    en = "Column {position} has no name."


class ZipBomb(IngestError):
    code = "ZIP_BOMB"
    status = 413
    en = "The XLSX file inflates too much (compression ratio or size over the limit); refused."


class CorruptFile(IngestError):
    code = "CORRUPT_FILE"
    en = "The {format} file is corrupt or truncated and cannot be read."


class SheetNotFound(IngestError):
    code = "SHEET_NOT_FOUND"
    en = "The workbook has no sheet named '{sheet}'. Sheets: {sheets}."


class TooManyColumns(IngestError):
    code = "TOO_MANY_COLUMNS"
    en = (
        "The file has at least {columns} columns, more than the limit of {limit} "
        "(YAOSU_MAX_COLUMNS). Split the file or keep only the columns you need, then retry."
    )


class LineTooLong(IngestError):
    code = "LINE_TOO_LONG"
    en = (
        "Line {line} is longer than the {limit_mb} MB limit for one row: the file may lack "
        "line breaks, or not be line-by-line table text."
    )


class NotText(IngestError):
    code = "NOT_TEXT"
    status = 415
    en = (
        "The file is named '{extension}' but its content is not text (byte {offset} is a NUL "
        "or other binary byte). If it is UTF-16 text, save it as UTF-8 and retry."
    )


class JsonNotRecords(IngestError):
    code = "JSON_NOT_RECORDS"
    en = (
        "The JSON file's top level is a single {kind}, not a table: provide an array of "
        "objects (one record each), or one object per line (NDJSON)."
    )


class InvalidFilename(IngestError):
    code = "INVALID_FILENAME"
    en = "The file name is invalid: nothing is left once control characters and folders are removed. Retry with a plain name such as data.csv."


class BodyReadTimeout(YaosuError):
    code = "BODY_READ_TIMEOUT"
    status = 408
    en = "The request body stopped arriving for {seconds} s; the connection was closed and nothing was kept. Upload again."


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
