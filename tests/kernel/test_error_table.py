"""The one error table (kernel/errors.translate): every library error class that can reach a
user is translated to a specific ``YaosuError``, or is named below as a bug.

Like httpx's test of its exception map: the libraries' hierarchies are walked, so a class a
new release adds fails here until someone decides what it means."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import duckdb
import openpyxl.utils.exceptions
import pyarrow as pa
import pydantic
import pytest
import sqlalchemy.exc
import sqlalchemy.orm.exc
import sqlglot.errors

import yaosu.api  # noqa: F401  (loads every domain, and with them their registrations)
from yaosu.audit.verify import VerificationError
from yaosu.catalog.ingest.errors import CorruptFile
from yaosu.kernel import errors
from yaosu.kernel.errors import (
    Busy,
    Conflict,
    Internal,
    InvalidInput,
    LogCorrupt,
    NotFound,
    QueryFailed,
    QueryInvalid,
    YaosuError,
    translate,
)

# Internal: a bug if it reaches a user. Each means our code or our SQL is wrong (a mapping,
# a query, a session used after its end), never the user's input or the system's load.
BUGS = {
    # SQLAlchemy: mapping, compiling and session-use errors are ours to fix.
    "sqlalchemy.exc.SQLAlchemyError",
    "sqlalchemy.exc.ArgumentError",
    "sqlalchemy.exc.DuplicateColumnError",
    "sqlalchemy.exc.ObjectNotExecutableError",
    "sqlalchemy.exc.NoSuchModuleError",
    "sqlalchemy.exc.NoForeignKeysError",
    "sqlalchemy.exc.AmbiguousForeignKeysError",
    "sqlalchemy.exc.ConstraintColumnNotFoundError",
    "sqlalchemy.exc.CircularDependencyError",
    "sqlalchemy.exc.CompileError",
    "sqlalchemy.exc.UnsupportedCompilationError",
    "sqlalchemy.exc.IdentifierError",
    "sqlalchemy.exc.InvalidRequestError",
    "sqlalchemy.exc.IllegalStateChangeError",
    "sqlalchemy.exc.NoInspectionAvailable",
    "sqlalchemy.exc.NoDBAPILoaded",
    "sqlalchemy.exc.PendingRollbackError",  # an error swallowed inside a transaction
    "sqlalchemy.exc.ResourceClosedError",
    "sqlalchemy.exc.NoSuchColumnError",
    "sqlalchemy.exc.AmbiguousColumnError",
    "sqlalchemy.exc.NoResultFound",  # a lookup that should have been get() or a NotFound
    "sqlalchemy.exc.MultipleResultsFound",
    "sqlalchemy.exc.NoReferenceError",
    "sqlalchemy.exc.NoReferencedTableError",
    "sqlalchemy.exc.NoReferencedColumnError",
    "sqlalchemy.exc.AwaitRequired",
    "sqlalchemy.exc.MissingGreenlet",
    "sqlalchemy.exc.NoSuchTableError",
    "sqlalchemy.exc.UnreflectableTableError",
    "sqlalchemy.exc.UnboundExecutionError",
    "sqlalchemy.exc.StatementError",  # a bound value the driver could not take
    "sqlalchemy.exc.DBAPIError",
    "sqlalchemy.exc.DatabaseError",
    "sqlalchemy.exc.InternalError",  # e.g. PostgreSQL's "current transaction is aborted"
    "sqlalchemy.exc.ProgrammingError",  # our SQL: a missing table or column, a syntax error
    "sqlalchemy.exc.NotSupportedError",
    "sqlalchemy.orm.exc.MappedAnnotationError",
    "sqlalchemy.orm.exc.UnmappedError",
    "sqlalchemy.orm.exc.UnmappedInstanceError",
    "sqlalchemy.orm.exc.UnmappedClassError",
    "sqlalchemy.orm.exc.ObjectDeletedError",
    "sqlalchemy.orm.exc.UnmappedColumnError",
    "sqlalchemy.orm.exc.LoaderStrategyException",
    "sqlalchemy.orm.exc.FlushError",
    "sqlalchemy.orm.exc.ObjectDereferencedError",
    "sqlalchemy.orm.exc.DetachedInstanceError",
    "sqlalchemy.orm.evaluator.UnevaluatableError",
    # DuckDB outside the governed query runs only our own SQL (profiles, conversions, extracts):
    # a parser, binder or catalog error is our SQL; the rest are DuckDB's own faults.
    "_duckdb.Error",
    "_duckdb.DatabaseError",
    "_duckdb.FatalException",
    "_duckdb.PermissionException",  # a path outside allowed_paths: we asked for it
    "_duckdb.SequenceException",
    "_duckdb.DependencyException",
    "_duckdb.IntegrityError",
    "_duckdb.ConstraintException",
    "_duckdb.InternalError",
    "_duckdb.InternalException",
    "_duckdb.ProgrammingError",
    "_duckdb.ParserException",
    "_duckdb.SyntaxException",
    "_duckdb.BinderException",
    "_duckdb.InvalidInputException",  # a reader's complaint about a file: ingest catches it
    "_duckdb.InvalidTypeException",
    "_duckdb.CatalogException",
    "_duckdb.NotSupportedError",
    "_duckdb.NotImplementedException",
    # pyarrow: ingest turns every reader error into MalformedFile or CorruptFile; elsewhere
    # Arrow only handles tables we made.
    "pyarrow.lib.ArrowException",
    "pyarrow.lib.ArrowInvalid",
    "pyarrow.lib.ArrowKeyError",
    "pyarrow.lib.ArrowTypeError",
    "pyarrow.lib.ArrowNotImplementedError",
    "pyarrow.lib.ArrowCapacityError",
    "pyarrow.lib.ArrowIndexError",
    "pyarrow.lib.ArrowSerializationError",
    # openpyxl: writing and naming errors; Yaosu only reads workbooks
    "openpyxl.utils.exceptions.CellCoordinatesException",
    "openpyxl.utils.exceptions.IllegalCharacterError",
    "openpyxl.utils.exceptions.NamedRangeException",
    "openpyxl.utils.exceptions.ReadOnlyWorkbookException",
    "openpyxl.utils.exceptions.SheetTitleException",
    "openpyxl.utils.exceptions.WorkbookAlreadySaved",
}


def _roots() -> list[type[BaseException]]:
    import opendp.mod
    import py4j.protocol
    import pyspark.errors

    workbook = [
        c
        for c in vars(openpyxl.utils.exceptions).values()
        if isinstance(c, type) and issubclass(c, Exception) and c.__module__.startswith("openpyxl")
    ]
    return [
        sqlalchemy.exc.SQLAlchemyError,
        duckdb.Error,
        sqlglot.errors.SqlglotError,
        pydantic.ValidationError,
        opendp.mod.OpenDPException,
        VerificationError,
        pa.ArrowException,
        py4j.protocol.Py4JError,
        pyspark.errors.PySparkException,
        *workbook,
    ]


def _walk(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _walk(sub)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _instance(cls: type[BaseException]) -> BaseException:
    if issubclass(cls, pydantic.ValidationError):
        try:
            pydantic.TypeAdapter(int).validate_python("x")
        except pydantic.ValidationError as exc:
            return exc
    return cls.__new__(cls)  # no constructor: the table must not depend on its arguments


def test_every_library_error_is_translated_or_named_as_a_bug() -> None:
    classes = {c: None for root in _roots() for c in _walk(root)}
    assert len(classes) > 100
    unmapped, wrongly_listed = [], []
    for cls in classes:
        error = translate(_instance(cls))
        assert isinstance(error, YaosuError)
        if _name(cls) in BUGS:
            if not isinstance(error, Internal):
                wrongly_listed.append(_name(cls))
        elif isinstance(error, Internal) or type(error) is YaosuError:
            unmapped.append(_name(cls))
    assert not unmapped, f"add these to kernel/errors' table, or to BUGS with why: {unmapped}"
    assert not wrongly_listed, f"translated, so not bugs: remove from BUGS: {wrongly_listed}"
    stale = BUGS - {_name(c) for c in classes}
    assert not stale, f"no longer in the libraries: {stale}"


def _db_error(cls: type[sqlalchemy.exc.DBAPIError], orig: Exception) -> Exception:
    return cls("UPDATE t SET x = 1", {}, orig)


def test_database_errors_keep_their_meanings() -> None:
    locked = translate(
        _db_error(sqlalchemy.exc.OperationalError, sqlite3.OperationalError("database is locked"))
    )
    assert isinstance(locked, Busy) and locked.status == 503
    assert isinstance(locked.__cause__, sqlalchemy.exc.OperationalError)
    unique = translate(_db_error(sqlalchemy.exc.IntegrityError, sqlite3.IntegrityError("UNIQUE")))
    assert isinstance(unique, Conflict) and unique.status == 409
    too_long = translate(_db_error(sqlalchemy.exc.DataError, ValueError("value too long")))
    assert isinstance(too_long, InvalidInput) and too_long.status == 422
    assert "too long" in too_long.message("en") and "过长" in too_long.message("zh-CN")
    assert isinstance(translate(sqlalchemy.exc.TimeoutError("pool")), Busy)
    assert isinstance(translate(sqlalchemy.orm.exc.StaleDataError("gone")), Busy)
    assert isinstance(translate(duckdb.OutOfMemoryException("oom")), Busy)
    assert isinstance(translate(pa.ArrowMemoryError("oom")), Busy)


def test_postgresql_serialization_failures_are_busy() -> None:
    import psycopg.errors

    for orig in (psycopg.errors.SerializationFailure(), psycopg.errors.DeadlockDetected()):
        assert isinstance(translate(_db_error(sqlalchemy.exc.OperationalError, orig)), Busy)
    aborted = psycopg.errors.InFailedSqlTransaction()
    assert isinstance(translate(_db_error(sqlalchemy.exc.InternalError, aborted)), Internal)


def test_the_rest_of_the_table() -> None:
    import opendp.mod

    parse = translate(sqlglot.errors.ParseError("no"))
    assert isinstance(parse, QueryInvalid) and parse.status == 422
    assert parse.message("zh-CN") == "查询无法执行：查询无法解析或分析"
    release = translate(opendp.mod.OpenDPException("FailedFunction"))
    assert isinstance(release, QueryFailed) and "加噪" in release.message("zh-CN")
    workbook = translate(openpyxl.utils.exceptions.InvalidFileException("no"))
    assert isinstance(workbook, CorruptFile) and "XLSX" in workbook.message("en")


def test_a_verifier_error_is_the_audit_log_failing_its_check() -> None:
    error = translate(VerificationError("checkpoint 5 is not signed by log.example"))
    assert isinstance(error, LogCorrupt) and error.code == "AUDIT_LOG_CORRUPT"
    assert "checkpoint 5 is not signed by log.example" in error.message("zh-CN")


def test_pydantic_errors_name_each_field_once_formatted() -> None:
    class Form(pydantic.BaseModel):
        title: str
        days: int

    with pytest.raises(pydantic.ValidationError) as caught:
        Form.model_validate({"days": "x"})
    error = translate(caught.value)
    assert isinstance(error, InvalidInput)
    assert [f["field"] for f in error.detail["fields"]] == ["title", "days"]
    assert error.detail["problem"].startswith("title: Field required; days: ")


def test_yaosu_errors_pass_through_and_the_unknown_is_internal() -> None:
    missing = NotFound(kind="x", id="y")
    assert translate(missing) is missing
    bug = translate(KeyError("k"), request_id="req1")
    assert isinstance(bug, Internal) and bug.detail == {"request_id": "req1"}
    assert isinstance(translate(KeyError("k")).detail["request_id"], str)


def test_register_keeps_the_most_specific_first(monkeypatch: pytest.MonkeyPatch) -> None:
    class Outer(Exception):
        """A library's error."""

    class Inner(Outer):
        """A more specific one, registered after it."""

    monkeypatch.setattr(errors, "_TABLE", list(errors._TABLE))
    errors.register(Outer, lambda exc: Busy())
    errors.register(Inner, lambda exc: Conflict(what="x", value="y"))
    assert isinstance(translate(Inner()), Conflict) and isinstance(translate(Outer()), Busy)
    errors.register(Outer, lambda exc: NotFound(kind="x", id="y"))  # replaces, in place
    assert isinstance(translate(Outer()), NotFound) and isinstance(translate(Inner()), Conflict)
    assert Outer in errors.translated() and Inner in errors.translated()
