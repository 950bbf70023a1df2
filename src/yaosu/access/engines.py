"""Where governed queries run: one interface, two engines.

``DuckDBEngine`` keeps a few worker processes, each with a DuckDB connection locked down
before it sees any query: ``allowed_paths`` lists exactly the stored Parquet versions it
may read, ``enable_external_access=false`` shuts every other file and the network, then
``lock_configuration=true``; a memory limit and a thread count. A worker asked about a
version it was not locked down with is replaced by one that is. A query that runs past its
time limit has its process killed and replaced. ``SparkEngine`` runs the same rewritten
query, transpiled by sqlglot, on Spark (local mode, Spark Connect or a cluster).

Errors never carry the engine's message: it can quote data ("could not convert '张三'").
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from yaosu.kernel.errors import QueryFailed
from yaosu.kernel.i18n import N_, _
from yaosu.kernel.settings import Settings

log = logging.getLogger("yaosu.access")


class Engine(Protocol):
    name: str

    def run(self, sql: str, sources: dict[str, Path]) -> pa.Table:
        """Runs the (already governed) SQL; ``sources`` maps engine names to Parquet files."""
        ...

    def close(self) -> None: ...


# What went wrong, as a code and in words. "plan" failures happen before any row is read (the
# engine could not bind the query) and cannot depend on the data; every other kind can.
_WORDS = {
    "timeout": N_("it ran past the time limit of {seconds} s"),
    "memory": N_("it ran out of memory"),
    "interrupted": N_("it was interrupted"),
    "crashed": N_("the query process stopped unexpectedly"),
    "plan": N_(
        "the engine could not plan it, for example a function was given the wrong type of value"
    ),
    "conversion": N_("a value could not be converted to the type needed"),
    "range": N_("a number was out of range"),
    "error": N_("the engine failed while running it"),
    "release": N_("adding noise to the answer failed"),
}
DATA_INDEPENDENT = frozenset({"plan", "crashed"})  # refunded; every other failure is charged
_DUCKDB_KINDS = {
    "BinderException": "plan",
    "ParserException": "plan",
    "CatalogException": "plan",
    "NotImplementedException": "plan",
    "SyntaxException": "plan",
    "ConversionException": "conversion",
    "OutOfRangeException": "range",
    "OutOfMemoryException": "memory",
    "InterruptException": "interrupted",
}
_SPARK_KINDS = {"AnalysisException": "plan", "ParseException": "plan"}


def failure(kind: str, seconds: float) -> QueryFailed:
    return QueryFailed(
        kind=kind, seconds=seconds, what=_(_WORDS.get(kind, _WORDS["error"]), seconds=seconds)
    )


# --- DuckDB --------------------------------------------------------------------------------


def _serve(conn: Connection, memory_mb: int, threads: int, sources: dict[str, str]) -> None:
    """The worker process: lock DuckDB down to exactly its source files, then answer
    queries until told to stop. ``sources`` maps view names to the stored Parquet versions
    this worker may read: DuckDB's ``allowed_paths`` (with external access otherwise off)
    lets it read those files natively and nothing else."""
    import duckdb

    db = duckdb.connect(
        config={
            "memory_limit": f"{memory_mb}MB",
            "threads": threads,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in sources.values())
    db.execute(f"SET allowed_paths = [{listed}]")
    db.execute("SET enable_external_access = false")
    db.execute("SET lock_configuration = true")
    for name, path in sources.items():
        quoted = '"' + name.replace('"', '""') + '"'
        db.execute(
            f"CREATE VIEW {quoted} AS SELECT * FROM read_parquet('{path.replace(chr(39), chr(39) * 2)}')"
        )
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        try:
            table = db.sql(message).to_arrow_table()
            assert table is not None
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            conn.send(("ok", sink.getvalue().to_pybytes()))
        except Exception as exc:  # an engine error: its kind only, never its text
            conn.send(("error", _DUCKDB_KINDS.get(type(exc).__name__, "error")))


class _Worker:
    def __init__(self, memory_mb: int, threads: int, sources: dict[str, str]) -> None:
        ctx = mp.get_context("spawn")  # never fork a threaded server
        self.sources = dict(sources)
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve,
            args=(child, memory_mb, threads, self.sources),
            daemon=True,
            name="yaosu-query",
        )
        self.process.start()
        child.close()

    def call(self, sql: str, timeout: float) -> tuple[str, Any]:
        self.conn.send(sql)
        if not self.conn.poll(timeout):
            raise TimeoutError
        result: tuple[str, Any] = self.conn.recv()
        return result

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.kill()


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, settings: Settings) -> None:
        self.size = settings.query_workers
        self.timeout = settings.query_seconds
        self.memory_mb = settings.query_memory_mb
        self.threads = settings.query_threads
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._made = 0
        self._known: dict[str, str] = {}  # every source any worker may be asked to read
        self._lock = threading.Lock()

    def _take(self, sources: dict[str, Path]) -> _Worker:
        with self._lock:
            self._known.update({k: str(v) for k, v in sources.items()})
            if self._idle.empty() and self._made < self.size:
                self._made += 1
                return _Worker(self.memory_mb, self.threads, self._known)
        worker = self._idle.get(timeout=self.timeout + 30)
        if any(worker.sources.get(k) != str(v) for k, v in sources.items()):
            # A version this worker was not locked down with: a new worker for the new set.
            worker.stop()
            with self._lock:
                worker = _Worker(self.memory_mb, self.threads, self._known)
        return worker

    def run(self, sql: str, sources: dict[str, Path]) -> pa.Table:
        worker = self._take(sources)
        try:
            status, payload = worker.call(sql, self.timeout)
        except TimeoutError:
            worker.kill()
            with self._lock:
                self._made -= 1
            raise failure("timeout", self.timeout) from None
        except (EOFError, BrokenPipeError, OSError):
            worker.kill()
            with self._lock:
                self._made -= 1
            raise failure("crashed", self.timeout) from None
        self._idle.put(worker)
        if status == "ok":
            with pa.ipc.open_stream(payload) as reader:
                return reader.read_all()
        raise failure(str(payload), self.timeout)

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().stop()
        self._made = 0


# --- Spark ---------------------------------------------------------------------------------


class SparkEngine:
    """The same governed SQL on Apache Spark: sqlglot transpiles DuckDB's dialect to Spark's,
    and each source becomes a temporary view over its Parquet file."""

    name = "spark"

    def __init__(self, settings: Settings) -> None:
        self.master = settings.spark_master
        self._spark: Any = None
        self._lock = threading.Lock()

    def _session(self) -> Any:
        with self._lock:
            if self._spark is None:
                from pyspark.sql import SparkSession

                builder = SparkSession.builder.appName("yaosu")
                if self.master.startswith("sc://"):
                    builder = builder.remote(self.master)
                else:
                    builder = (
                        builder.master(self.master)
                        .config("spark.ui.enabled", "false")
                        .config("spark.sql.session.timeZone", "UTC")
                        .config("spark.sql.ansi.enabled", "false")
                    )
                self._spark = builder.getOrCreate()
                # ANSI mode off on every kind of session (Spark 4 turns it on by default):
                # an overflow or a bad conversion then answers NULL instead of failing on a
                # value, which would be an oracle.
                self._spark.conf.set("spark.sql.ansi.enabled", "false")
                if not self.master.startswith("sc://"):
                    self._spark.sparkContext.setLogLevel("ERROR")
            return self._spark

    def run(self, sql: str, sources: dict[str, Path]) -> pa.Table:
        import sqlglot

        spark = self._session()
        for name, path in sources.items():
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
        text = sqlglot.transpile(sql, read="duckdb", write="spark", identify=True)[0]
        try:
            result: pa.Table = spark.sql(text).toArrow()
            return result
        except Exception as exc:
            log.warning("spark query failed: %s", type(exc).__name__)
            raise failure(_SPARK_KINDS.get(type(exc).__name__, "error"), 0) from None

    def close(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None


def make_engine(settings: Settings, name: str | None = None) -> Engine:
    chosen = name or settings.query_engine
    if chosen == "spark":
        return SparkEngine(settings)
    return DuckDBEngine(settings)
