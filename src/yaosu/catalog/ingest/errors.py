"""Every reason a file cannot become a dataset version: the catalog's own errors, in the one
error hierarchy (``kernel.errors.YaosuError``), their Chinese in the catalog's catalog. The
workbook library's own refusal is registered in the one error table here, so the kernel
imports nothing of ingest."""

from __future__ import annotations

from yaosu.kernel import errors
from yaosu.kernel.errors import YaosuError


class IngestError(YaosuError):
    """Base of every reason a file cannot become a dataset version."""

    status = 422


class FileTooLarge(IngestError):
    code = "FILE_TOO_LARGE"
    status = 413
    en = "The file is larger than the limit ({limit_mb} MB)."


class IdenticalToLatest(IngestError):
    code = "IDENTICAL_TO_LATEST"
    status = 409
    en = "The data is identical to version {version} (the same SHA-256); no version was created."


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


errors.register(
    "openpyxl.utils.exceptions.InvalidFileException", lambda exc: CorruptFile(format="XLSX")
)
