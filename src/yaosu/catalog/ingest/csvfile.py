"""CSV and TSV to Parquet, streamed block by block with Arrow.

Types are inferred from a sample and then fixed for the stream. When a later
block holds a value the inferred type cannot take (a "N/A" in a number column),
the stream restarts with that column as text: correct first, and the restart is
rare. Identifier-like integers (leading zeros, more than 15 digits, such as
resident ID numbers) are kept as text so nothing is lost.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from yaosu.catalog.ingest.common import HashingReader, Progress, check_column_names
from yaosu.catalog.ingest.sniff import SAMPLE_BYTES, Sniffed
from yaosu.kernel.errors import (
    EmptyFile,
    EncodingError,
    MalformedFile,
    NoDataRows,
    RaggedRows,
)

_RAGGED = re.compile(r"Expected (\d+) columns?, got (\d+)")
_ROW = re.compile(r"Row #(\d+)")
_CONVERSION = re.compile(r"In CSV column #(\d+): .*CSV conversion error to (\w+)")
NULLS = ["", "NULL", "null", "NA", "N/A", "n/a", "-", "—"]


def read_header_and_sample(path: Path, sniffed: Sniffed) -> tuple[list[str], bytes]:
    """The header (by Python's csv module, which knows quoting) and a UTF-8 sample of rows."""
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES * 4)
        whole = not fh.read(1)
    import codecs

    text = codecs.getincrementaldecoder(sniffed.encoding or "utf-8")(errors="replace").decode(
        raw, final=whole
    )
    text = text.lstrip("\ufeff")
    if not whole:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    reader = csv.reader(io.StringIO(text), delimiter=sniffed.delimiter or ",")
    header = next(reader, None)
    if not header:
        raise EmptyFile()
    return check_column_names(header), text.encode("utf-8")


def infer_types(names: list[str], sample: bytes, delimiter: str) -> dict[str, pa.DataType]:
    opts = _options(names, delimiter, {})
    opts[0].use_threads = False  # so a ragged row in the sample is reported with its line
    try:
        table = pacsv.read_csv(pa.py_buffer(sample), *opts)
    except pa.ArrowInvalid as exc:
        raise _translate(exc, names) from exc
    if table.num_rows == 0:
        raise NoDataRows()
    types: dict[str, pa.DataType] = {}
    for name, column in zip(names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_null(kind) or (
            pa.types.is_integer(kind) and _looks_like_identifier(sample, names, name, delimiter)
        ):
            kind = pa.string()
        types[name] = kind
    return types


def _looks_like_identifier(sample: bytes, names: list[str], name: str, delimiter: str) -> bool:
    table = pacsv.read_csv(
        pa.py_buffer(sample), *_options(names, delimiter, {n: pa.string() for n in names})
    )
    values = table.column(name).drop_null().to_pylist()
    return any((len(v) > 1 and v[0] == "0") or len(v.lstrip("+-")) > 15 for v in values)


def _options(
    names: list[str], delimiter: str, types: dict[str, pa.DataType], block_size: int = 1 << 24
) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
    return (
        pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size),
        pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        pacsv.ConvertOptions(
            column_types=types,
            null_values=NULLS,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )


def to_parquet(
    path: Path,
    sniffed: Sniffed,
    out: Path,
    *,
    block_size: int,
    progress: Progress | None = None,
) -> tuple[int, str, int]:
    """Writes ``out``; returns (rows, source sha256, source bytes)."""
    names, sample = read_header_and_sample(path, sniffed)
    delimiter = sniffed.delimiter or ","
    types = infer_types(names, sample, delimiter)
    for _attempt in range(len(names) + 1):
        try:
            return _stream(path, sniffed, names, types, out, block_size, progress)
        except pa.ArrowInvalid as exc:
            match = _CONVERSION.search(str(exc))
            if not match:
                if _RAGGED.search(str(exc)):
                    raise _locate(path, sniffed, names, exc) from exc
                raise _translate(exc, names) from exc
            column = names[int(match.group(1))]
            if types[column] == pa.string():
                raise _translate(exc, names) from exc
            types[column] = pa.string()  # widen and start again
    raise MalformedFile(format="CSV", problem="类型推断失败 / type inference failed")


def _stream(
    path: Path,
    sniffed: Sniffed,
    names: list[str],
    types: dict[str, pa.DataType],
    out: Path,
    block_size: int,
    progress: Progress | None,
) -> tuple[int, str, int]:
    read_opts, parse_opts, convert_opts = _options(
        names, sniffed.delimiter or ",", types, block_size
    )
    if sniffed.encoding and sniffed.encoding != "utf-8":
        read_opts.encoding = sniffed.encoding
    rows = 0
    with path.open("rb") as raw:
        source = HashingReader(raw, progress)
        try:
            reader = pacsv.open_csv(
                source,
                read_options=read_opts,
                parse_options=parse_opts,
                convert_options=convert_opts,
            )
        except UnicodeDecodeError as exc:
            raise EncodingError(encoding=sniffed.encoding_label) from exc
        schema = reader.schema
        with pq.ParquetWriter(out, schema, compression="snappy") as writer:
            try:
                for batch in reader:
                    rows += batch.num_rows
                    writer.write_batch(batch)
            except UnicodeDecodeError as exc:
                raise EncodingError(encoding=sniffed.encoding_label) from exc
        source.drain()
    if rows == 0:
        raise NoDataRows()
    return rows, source.sha256.hexdigest(), source.bytes_read


def _translate(exc: pa.ArrowInvalid, names: list[str]) -> Exception:
    message = str(exc)
    ragged = _RAGGED.search(message)
    if ragged:
        row = _ROW.search(message)
        return RaggedRows(
            expected=int(ragged.group(1)),
            got=int(ragged.group(2)),
            line=int(row.group(1)) if row else "?",
        )
    if "Empty CSV file" in message:
        return EmptyFile()
    if "UTF8" in message or "utf8" in message or "UTF-8" in message:
        return EncodingError(encoding="UTF-8")
    return MalformedFile(format="CSV", problem=message.splitlines()[0][:300])


def _locate(path: Path, sniffed: Sniffed, names: list[str], exc: pa.ArrowInvalid) -> Exception:
    """Arrow's threaded reader does not say which row was bad; read again on one thread."""
    read_opts, parse_opts, convert_opts = _options(
        names, sniffed.delimiter or ",", {n: pa.string() for n in names}
    )
    read_opts.use_threads = False
    if sniffed.encoding and sniffed.encoding != "utf-8":
        read_opts.encoding = sniffed.encoding
    try:
        for _ in pacsv.open_csv(path, read_opts, parse_opts, convert_opts):
            pass
    except pa.ArrowInvalid as again:
        return _translate(again, names)
    except UnicodeDecodeError:
        return EncodingError(encoding=sniffed.encoding_label)
    return _translate(exc, names)
