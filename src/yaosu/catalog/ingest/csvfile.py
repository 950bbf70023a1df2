"""CSV and TSV to Parquet, streamed block by block with Arrow.

Types are inferred from a sample and then fixed for the stream. When a later
block holds a value the inferred type cannot take (a "N/A" in a number column),
the stream restarts with that column as text: correct first, and the restart is
rare. Identifier-like integers (leading zeros, more than 15 digits, such as
resident ID numbers) are kept as text so nothing is lost.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from yaosu.catalog.ingest.common import HashingReader, Progress, check_column_names
from yaosu.catalog.ingest.errors import (
    EmptyFile,
    EncodingError,
    LineTooLong,
    MalformedFile,
    NoDataRows,
    RaggedRows,
    TooManyColumns,
)
from yaosu.catalog.ingest.identifiers import is_identifier
from yaosu.catalog.ingest.sniff import SAMPLE_BYTES, Sniffed
from yaosu.catalog.ingest.transcode import Transcoder
from yaosu.kernel.i18n import _

_RAGGED = re.compile(r"Expected (\d+) columns?, got (\d+)")
_ROW = re.compile(r"Row #(\d+)")
_CONVERSION = re.compile(
    r"In CSV column #(\d+): .*CSV conversion error to (\w+): invalid value '(.*)'", re.DOTALL
)
NULLS = ["", "NULL", "null", "NA", "N/A", "n/a", "-", "—"]


def read_header_and_sample(
    path: Path, sniffed: Sniffed, *, max_line_bytes: int, max_columns: int
) -> tuple[list[str], bytes]:
    """The header (by Python's csv module, which knows quoting) and a UTF-8 sample of rows.

    The sample is about ``SAMPLE_BYTES`` of whole lines, and always holds the header and the
    first row however long they are, up to ``max_line_bytes`` each (the longest row the
    block reader can parse). Too many columns are refused here, before any other work."""
    decoder = codecs.getincrementaldecoder(sniffed.encoding or "utf-8")(errors="replace")
    parts: list[str] = []
    newlines = read = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(SAMPLE_BYTES)
            whole = len(chunk) < SAMPLE_BYTES or not fh.peek(1)
            piece = decoder.decode(chunk, final=whole)
            parts.append(piece)
            newlines += piece.count("\n")
            read += len(chunk)
            if whole or (newlines >= 2 and read >= SAMPLE_BYTES):
                break
            if read > max_line_bytes * (newlines + 1):
                # The header, or the first row, is longer than one row may be.
                if newlines == 0:
                    _check_width(_fields("".join(parts), sniffed), max_columns)
                raise LineTooLong(line=newlines + 1, limit_mb=round(max_line_bytes / 2**20, 1))
    text = "".join(parts).lstrip("\ufeff")
    if not whole:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    elif not text.endswith("\n"):
        text += "\n"  # the last line ends with the file
    header = _fields(text, sniffed)
    if not header:
        raise EmptyFile()
    _check_width(header, max_columns)
    return check_column_names(header), text.encode("utf-8")


def _fields(text: str, sniffed: Sniffed) -> list[str]:
    """The first record's fields (all of them read so far, when the record is cut short)."""
    reader = csv.reader(io.StringIO(text), delimiter=sniffed.delimiter or ",")
    try:
        return next(reader, None) or []
    except csv.Error:  # an unterminated quote in a cut-short sample
        return []


def _check_width(header: list[str], max_columns: int) -> None:
    if len(header) > max_columns:
        raise TooManyColumns(columns=len(header), limit=max_columns)


def infer_types(
    names: list[str], sample: bytes, delimiter: str
) -> tuple[dict[str, pa.DataType], list[str]]:
    """Column types from the sample, and the columns worth dictionary-encoding in Parquet
    (repetitive ones: dictionary pages on near-unique columns cost time and save nothing)."""
    opts = _options(names, delimiter, {}, max(1 << 24, len(sample) + 1))
    opts[0].use_threads = False  # so a ragged row in the sample is reported with its line
    try:
        table = pacsv.read_csv(pa.py_buffer(sample), *opts)
    except pa.ArrowInvalid as exc:
        raise _translate(exc, names) from exc
    if table.num_rows == 0:
        raise NoDataRows()
    text = pacsv.read_csv(
        pa.py_buffer(sample),
        *_options(names, delimiter, {n: pa.string() for n in names}, max(1 << 24, len(sample) + 1)),
    )
    types: dict[str, pa.DataType] = {}
    dictionary = []
    for name, column in zip(names, table.columns, strict=True):
        present = column.drop_null()
        if len(present) and pc.count_distinct(present).as_py() < 0.2 * len(present):
            dictionary.append(name)
        kind = column.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)  # +86... reads as a float
        if pa.types.is_null(kind) or (numeric and is_identifier(name, text.column(name))):
            kind = pa.string()
        types[name] = kind
    return types, dictionary


def widen(current: pa.DataType, value: str) -> pa.DataType:
    """The next type for a column that met ``value``: integers become doubles when the value
    is a number, anything else becomes text.

    >>> widen(pa.int64(), "3.5"), widen(pa.int64(), "待定"), widen(pa.float64(), "x")
    (DataType(double), DataType(string), DataType(string))
    """
    if pa.types.is_integer(current):
        try:
            float(value)
        except ValueError:
            return pa.string()
        return pa.float64()
    return pa.string()


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
    max_columns: int,
    progress: Progress | None = None,
) -> tuple[int, str, int]:
    """Writes ``out``; returns (rows, source sha256, source bytes)."""
    names, sample = read_header_and_sample(
        path, sniffed, max_line_bytes=block_size, max_columns=max_columns
    )
    delimiter = sniffed.delimiter or ","
    types, dictionary = infer_types(names, sample, delimiter)
    for _attempt in range(len(names) + 1):
        try:
            return _stream(path, sniffed, names, types, dictionary, out, block_size, progress)
        except pa.ArrowInvalid as exc:
            match = _CONVERSION.search(str(exc))
            if "straddl" in str(exc):  # a row longer than a block, somewhere after the sample
                raise LineTooLong(line="?", limit_mb=round(block_size / 2**20, 1)) from exc
            if not match:
                if _RAGGED.search(str(exc)):
                    raise _locate(path, sniffed, names, exc) from exc
                raise _translate(exc, names) from exc
            column = names[int(match.group(1))]
            if types[column] == pa.string():
                raise _translate(exc, names) from exc
            types[column] = widen(types[column], match.group(3))  # and start again
    raise MalformedFile(format="CSV", problem=_("type inference failed"))


def _stream(
    path: Path,
    sniffed: Sniffed,
    names: list[str],
    types: dict[str, pa.DataType],
    dictionary: list[str],
    out: Path,
    block_size: int,
    progress: Progress | None,
) -> tuple[int, str, int]:
    read_opts, parse_opts, convert_opts = _options(
        names, sniffed.delimiter or ",", types, block_size
    )
    if sniffed.encoding in (None, "utf-8"):
        with path.open("rb") as raw:
            source = HashingReader(raw, progress)
            rows = _write(source, out, dictionary, read_opts, parse_opts, convert_opts)
            source.drain()
        return rows, source.sha256.hexdigest(), source.bytes_read

    size = path.stat().st_size
    transcoder = Transcoder(path, sniffed.encoding)
    try:
        # Progress counts UTF-8 bytes parsed, scaled back to the source's size.
        ratio = size / max(_utf8_size_estimate(path, sniffed.encoding), 1)
        scaled = (lambda done: progress(min(size, int(done * ratio)))) if progress else None
        piped = HashingReader(transcoder.stdout, scaled, hashing=False)  # type: ignore[arg-type]
        try:
            rows = _write(piped, out, dictionary, read_opts, parse_opts, convert_opts)
        except (pa.ArrowInvalid, NoDataRows) as exc:
            # A stream cut short by a decode error can look like a parse error: ask the child.
            report = transcoder.finish()
            if report.get("error") == "decode":
                raise EncodingError(
                    encoding=sniffed.encoding_label, offset=report.get("offset")
                ) from exc
            raise
        piped.drain()
        report = transcoder.finish()
    except BaseException:
        transcoder.kill()
        raise
    if "error" in report:
        raise EncodingError(encoding=sniffed.encoding_label, offset=report.get("offset"))
    return rows, str(report["sha256"]), int(report["bytes"])  # type: ignore[call-overload]


def _write(
    source: HashingReader,
    out: Path,
    dictionary: list[str],
    read_opts: pacsv.ReadOptions,
    parse_opts: pacsv.ParseOptions,
    convert_opts: pacsv.ConvertOptions,
) -> int:
    rows = 0
    reader = pacsv.open_csv(
        source, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts
    )
    with pq.ParquetWriter(
        out, reader.schema, compression="snappy", use_dictionary=dictionary
    ) as writer:
        for batch in reader:
            rows += batch.num_rows
            writer.write_batch(batch)
    if rows == 0:
        raise NoDataRows()
    return rows


def _utf8_size_estimate(path: Path, encoding: str) -> int:
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    return int(len(text.encode("utf-8")) * path.stat().st_size / max(len(head), 1))


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
        for _skip in pacsv.open_csv(path, read_opts, parse_opts, convert_opts):
            pass
    except pa.ArrowInvalid as again:
        return _translate(again, names)
    except UnicodeDecodeError:
        return EncodingError(encoding=sniffed.encoding_label)
    return _translate(exc, names)
