"""Where governed queries run: one interface, two engines.

``DuckDBEngine`` keeps a few worker processes, each with a DuckDB connection locked down
before it sees any query (``enable_external_access=false`` then ``lock_configuration=true``,
a memory limit and a thread count). Datasets reach it as Arrow datasets over the stored
Parquet (read by Arrow, not by DuckDB, whose own file access is off). A query that runs past
its time limit has its process killed and replaced. ``SparkEngine`` runs the same rewritten
query, transpiled by sqlglot, on Spark (local mode, Spark Connect or a cluster).

Errors never carry the engine's message: it can quote data ("could not convert '张三'").
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from yaosu.kernel.errors import QueryFailed
from yaosu.kernel.settings import Settings

log = logging.getLogger("yaosu.access")
SMALL = 64 * 1024**2  # bytes of Parquet below which a version is held in a worker's memory


class Engine(Protocol):
    name: str

    def run(self, sql: str, sources: dict[str, Path]) -> pa.Table:
        """Runs the (already governed) SQL; ``sources`` maps engine names to Parquet files."""
        ...

    def close(self) -> None: ...


# --- DuckDB --------------------------------------------------------------------------------


def _serve(conn: Connection, memory_mb: int, threads: int) -> None:
    """The worker process: lock DuckDB down, then answer queries until told to stop."""
    import duckdb
    import pyarrow.dataset as pads

    db = duckdb.connect(
        config={
            "memory_limit": f"{memory_mb}MB",
            "threads": threads,
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    db.execute("SET lock_configuration = true")
    registered: dict[str, str] = {}
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        sql, sources = message
        try:
            for name, path in sources.items():
                if registered.get(name) != path:
                    data = pads.dataset(path, format="parquet")
                    # Small versions are kept in memory (their scans then cost nothing to
                    # set up); large ones are scanned from the file, column by column.
                    if os.path.getsize(path) < SMALL:
                        data = data.to_table()
                    db.register(name, data)
                    registered[name] = path
            table = db.sql(sql).to_arrow_table()
            assert table is not None
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            conn.send(("ok", sink.getvalue().to_pybytes()))
        except duckdb.OutOfMemoryException:
            conn.send(("error", "memory"))
        except duckdb.InterruptException:
            conn.send(("error", "interrupted"))
        except Exception as exc:  # any other engine error: its class only, never its text
            conn.send(("error", type(exc).__name__))


class _Worker:
    def __init__(self, memory_mb: int, threads: int) -> None:
        ctx = mp.get_context("spawn")  # never fork a threaded server
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(child, memory_mb, threads), daemon=True, name="yaosu-query"
        )
        self.process.start()
        child.close()

    def call(self, sql: str, sources: dict[str, Path], timeout: float) -> tuple[str, Any]:
        self.conn.send((sql, {k: str(v) for k, v in sources.items()}))
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
        self._lock = threading.Lock()

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle.empty() and self._made < self.size:
                self._made += 1
                return _Worker(self.memory_mb, self.threads)
        return self._idle.get(timeout=self.timeout + 30)

    def run(self, sql: str, sources: dict[str, Path]) -> pa.Table:
        worker = self._take()
        try:
            status, payload = worker.call(sql, sources, self.timeout)
        except TimeoutError:
            worker.kill()
            with self._lock:
                self._made -= 1
            raise QueryFailed(kind="timeout", seconds=self.timeout) from None
        except (EOFError, BrokenPipeError, OSError):
            worker.kill()
            with self._lock:
                self._made -= 1
            raise QueryFailed(kind="crashed", seconds=self.timeout) from None
        self._idle.put(worker)
        if status == "ok":
            with pa.ipc.open_stream(payload) as reader:
                return reader.read_all()
        raise QueryFailed(kind=str(payload), seconds=self.timeout)

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
            raise QueryFailed(kind=type(exc).__name__, seconds=0) from None

    def close(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None


def make_engine(settings: Settings, name: str | None = None) -> Engine:
    chosen = name or settings.query_engine
    if chosen == "spark":
        return SparkEngine(settings)
    return DuckDBEngine(settings)
