"""Turn an uploaded file into one Parquet object plus its schema and profile.

Nothing here touches the metadata database: ``convert`` writes a temporary
Parquet file in the store's ``tmp/`` and returns what the catalog needs to
register it. The catalog service moves it into the content-addressed store and
records the version in one transaction.
"""

from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from yaosu.catalog.ingest import csvfile, jsonfile, parquetfile, xlsxfile
from yaosu.catalog.ingest.common import Progress
from yaosu.catalog.ingest.errors import FileTooLarge, MalformedFile
from yaosu.catalog.ingest.sniff import Sniffed, sniff
from yaosu.catalog.profile import profile
from yaosu.kernel.errors import YaosuError
from yaosu.kernel.settings import Settings
from yaosu.kernel.storage import ObjectStore, sha256_file

__all__ = ["Converted", "convert", "ingest_connection"]


@dataclass
class Converted:
    parquet: Path  # temporary; the caller stores or deletes it
    sha256: str
    size_bytes: int
    row_count: int
    columns: list[dict[str, Any]]
    source_sha256: str
    source_bytes: int
    source_format: str
    source_encoding: str | None
    source_delimiter: str | None
    seconds: float


def ingest_connection(store: ObjectStore, settings: Settings) -> duckdb.DuckDBPyConnection:
    """A private DuckDB for reading uploads: bounded memory, spills to the store's tmp."""
    con = duckdb.connect(
        config={
            "memory_limit": "512MB",
            "temp_directory": str(store.tmp),
            "threads": 2,
            "preserve_insertion_order": True,
        }
    )
    return con


def convert(
    source: Path,
    *,
    filename: str,
    store: ObjectStore,
    settings: Settings,
    sheet: str | None = None,
    progress: Progress | None = None,
    out: Path | None = None,
) -> Converted:
    """Reads ``source`` into a Parquet file at ``out`` (a new temp file when not given)."""
    started = time.perf_counter()
    size = source.stat().st_size
    if size > settings.max_upload_bytes:
        raise FileTooLarge(size=size, limit_mb=settings.max_upload_bytes // 2**20)
    sniffed: Sniffed = sniff(source, filename)
    out = out or store.temp_path(".parquet")
    try:
        with ingest_connection(store, settings) as con:
            source_sha = None
            width = settings.max_columns
            if sniffed.format == "csv":
                rows, source_sha, _ = csvfile.to_parquet(
                    source,
                    sniffed,
                    out,
                    block_size=settings.ingest_block_bytes,
                    max_columns=width,
                    progress=progress,
                )
            elif sniffed.format == "xlsx":
                xlsxfile.check_zip(
                    source,
                    max_bytes=settings.max_xlsx_uncompressed_bytes,
                    max_ratio=settings.max_zip_ratio,
                )
                rows = xlsxfile.to_parquet(source, out, sheet=sheet, max_columns=width)
            elif sniffed.format == "json":
                rows = jsonfile.to_parquet(source, sniffed, out, con, max_columns=width)
            else:
                rows = parquetfile.to_parquet(source, out, max_columns=width)
            if source_sha is None:
                source_sha = sha256_file(source)
                if progress:
                    progress(size)
            columns = profile(con, out)
        return Converted(
            parquet=out,
            sha256=sha256_file(out),
            size_bytes=out.stat().st_size,
            row_count=rows,
            columns=columns,
            source_sha256=source_sha,
            source_bytes=size,
            source_format=_label(sniffed, filename),
            source_encoding=sniffed.encoding_label,
            source_delimiter=sniffed.delimiter,
            seconds=round(time.perf_counter() - started, 3),
        )
    except YaosuError as exc:
        out.unlink(missing_ok=True)
        exc.detail = {k: scrub(v, source, out, name=filename) for k, v in exc.detail.items()}
        exc.args = (exc.message("en"),)
        raise
    except (duckdb.OutOfMemoryException, pa.ArrowMemoryError):
        out.unlink(missing_ok=True)
        raise
    except (pa.ArrowException, duckdb.Error, csv.Error, UnicodeError) as exc:
        # A reader's error we did not foresee is still the file's fault, never a 500.
        out.unlink(missing_ok=True)
        problem = scrub(
            str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
            source,
            out,
            name=filename,
        )
        raise MalformedFile(format=_label(sniffed, filename).upper(), problem=problem) from exc
    except BaseException:
        out.unlink(missing_ok=True)
        raise


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:/[^\s/\"'`,;:()<>]+){2,}/?")


def scrub(value: Any, *paths: Path, name: str) -> Any:
    """A message without the server's paths: the upload's temp file is called by the user's
    file name, and any other absolute path is cut to its last part.

    >>> scrub('Malformed JSON in file "/srv/y/data/tmp/tmpab12.upload", at byte 3',
    ...       Path("/srv/y/data/tmp/tmpab12.upload"), name="a.json")
    'Malformed JSON in file "a.json", at byte 3'
    >>> scrub("IO Error: /var/lib/yaosu/data/tmp/x.parquet", name="a.csv")
    'IO Error: x.parquet'
    """
    if not isinstance(value, str):
        return value
    for path in paths:
        value = value.replace(str(path), name)
    return _ABSOLUTE_PATH.sub(lambda m: Path(m.group(0)).name or "…", value)


def _label(sniffed: Sniffed, filename: str) -> str:
    if sniffed.format == "csv":
        return "tsv" if sniffed.delimiter == "\t" else "csv"
    if sniffed.format == "json" and filename.lower().endswith((".ndjson", ".jsonl")):
        return "ndjson"
    return sniffed.format
