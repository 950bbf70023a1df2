"""Database engine, sessions, the declarative base, and migrations.

One code path for SQLite (embedded default, WAL mode) and PostgreSQL. The schema is
created by Alembic only (``upgrade``); ``create_all`` is never called outside tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, MetaData, Select, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from yaosu.kernel.errors import SchemaAhead, SchemaBehind
from yaosu.kernel.i18n import _
from yaosu.kernel.settings import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use yaosu.kernel.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


S = TypeVar("S", bound=Select[Any])


def locked(stmt: S, *, skip_locked: bool = False) -> S:
    """``stmt`` with its rows locked until the transaction ends, where the dialect has row locks.

    PostgreSQL takes ``FOR UPDATE`` (``SKIP LOCKED`` for a queue, so that workers pass over a
    row another is claiming); SQLite has no row locks and SQLAlchemy leaves the clause out,
    while ``BEGIN IMMEDIATE`` (``make_engine``) already serialises its writers. One helper, so
    no caller asks which dialect it runs on.

    >>> from sqlalchemy import column, select, table
    >>> from sqlalchemy.dialects import postgresql, sqlite
    >>> stmt = locked(select(column("id")).select_from(table("jobs")), skip_locked=True)
    >>> str(stmt.compile(dialect=postgresql.dialect())).split("\\n")[-1]
    'FROM jobs FOR UPDATE SKIP LOCKED'
    >>> str(stmt.compile(dialect=sqlite.dialect())).split("\\n")[-1]
    'FROM jobs'
    """
    return stmt.with_for_update(skip_locked=skip_locked)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy, not pysqlite, open transactions, so BEGIN IMMEDIATE takes the write lock.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # The web process serves up to 40 requests at once (Starlette's thread pool): let each
    # have a connection rather than queue for one of SQLAlchemy's default 15.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # autocommit at the driver; SQLAlchemy emits BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed audit entry survives power loss, not only a crash (WAL + NORMAL would not).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Database:
    """The engine plus a session factory; ``transaction()`` is the unit of work."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.db_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Apply every Alembic migration up to head."""
        from alembic import command

        command.upgrade(alembic_config(self.engine), "head")

    def require_head(self) -> None:
        """Refuses a schema other than the code's head (``SchemaBehind``, ``SchemaAhead``).

        Migrating is an operator's decision (``yaosu db upgrade``; ``serve`` and ``demo`` apply
        them at start): a command run on an old database says so instead of changing the
        schema under a server that may still run the old code."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config(self.engine))
        heads = set(script.get_heads())
        with self.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        if current == heads:
            return
        known = {rev.revision for rev in script.walk_revisions()}
        detail = {
            "current": ", ".join(sorted(current)) or _("no schema"),
            "head": ", ".join(sorted(heads)),
        }
        raise SchemaBehind(**detail) if current <= known else SchemaAhead(**detail)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(__file__).resolve().parent.parent / "migrations")
    )
    cfg.attributes["engine"] = engine
    return cfg
