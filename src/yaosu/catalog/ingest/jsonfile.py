"""JSON (an array of objects) and NDJSON to Parquet, through DuckDB's JSON reader."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import duckdb
import pyarrow as pa
from duckdb import ColumnExpression, sqltypes

from yaosu.catalog.ingest.common import check_column_names
from yaosu.catalog.ingest.errors import MalformedFile, NoDataRows, TooManyColumns
from yaosu.catalog.ingest.identifiers import is_identifier
from yaosu.catalog.ingest.sniff import SAMPLE_BYTES, Sniffed
from yaosu.kernel.i18n import _

SAMPLE_ROWS = 10_000  # rows whose values decide which number columns are codes


def to_parquet(
    path: Path,
    sniffed: Sniffed,
    out: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    max_columns: int,
) -> int:
    _check_first_record(path, sniffed, max_columns)
    source = path
    if sniffed.encoding not in (None, "utf-8"):
        source = out.with_name(f"utf8-{out.stem}.json")  # not a locked temp: no lock prefix
        _transcode(path, source, sniffed.encoding)
    try:
        rel = con.read_json(str(source), format="auto", records="auto")
        if len(rel.columns) > max_columns:
            raise TooManyColumns(columns=len(rel.columns), limit=max_columns)
        names = check_column_names(rel.columns)
        if len({n.lower() for n in names}) != len(names):
            raise MalformedFile(format="JSON", problem=_("keys differ only in case"))
        rel = _identifiers_as_text(rel)
        rel.write_parquet(str(out), compression="snappy")
        rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchall()[0]
    except (
        duckdb.InvalidInputException,
        duckdb.ConversionException,
        duckdb.SerializationException,
    ) as exc:
        message = str(exc).splitlines()[0][:300]
        raise MalformedFile(format="JSON", problem=message) from exc
    finally:
        if source != path:
            source.unlink(missing_ok=True)
    count = int(rows[0]) if rows else 0
    if count == 0:
        raise NoDataRows()
    return count


def _check_first_record(path: Path, sniffed: Sniffed, max_columns: int) -> None:
    """Count the first record's keys before DuckDB infers a schema (which, for a record with
    100,000 keys, costs gigabytes). A first record longer than the sample is left to DuckDB."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    text = codecs.getincrementaldecoder(sniffed.encoding or "utf-8")(errors="replace").decode(head)
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        text = text[1:].lstrip(" \t\r\n")
    try:
        record, _skip = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return
    if isinstance(record, dict) and len(record) > max_columns:
        raise TooManyColumns(columns=len(record), limit=max_columns)


def _identifiers_as_text(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Whole-number columns that hold codes (phone numbers, IDs) become text, digit for digit."""
    sample = rel.limit(SAMPLE_ROWS).to_arrow_table()
    codes = {
        field.name
        for field in sample.schema
        if pa.types.is_integer(field.type) and is_identifier(field.name, sample.column(field.name))
    }
    if not codes:
        return rel
    return rel.select(
        *(
            ColumnExpression(name).cast(sqltypes.VARCHAR).alias(name)
            if name in codes
            else ColumnExpression(name)
            for name in rel.columns
        )
    )


def _transcode(src: Path, dst: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    with src.open("rb") as fin, dst.open("w", encoding="utf-8") as fout:
        while chunk := fin.read(1 << 22):
            fout.write(decoder.decode(chunk))
        fout.write(decoder.decode(b"", final=True))
