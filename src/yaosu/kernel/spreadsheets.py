"""Files people open in a spreadsheet: CSV as UTF-8 with a BOM (Excel reads Chinese right)
and XLSX, with every text cell that a spreadsheet would run as a formula made plain text
(OWASP's CSV injection advice: a leading ', for = + - @ tab and carriage return).

CSV is written from Arrow batches (bounded memory for any size); XLSX with openpyxl's
write-only mode, which refuses nothing but Excel does beyond ``XLSX_MAX_ROWS``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header row


def safe_text(value: Any) -> Any:
    """A text cell a spreadsheet shows as text.

    >>> safe_text("=HYPERLINK(1)"), safe_text("低保户"), safe_text(-3)
    ("'=HYPERLINK(1)", '低保户', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cells(batch: pa.RecordBatch) -> Iterator[list[Any]]:
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    return (list(row) for row in zip(*columns, strict=True))


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    """CSV bytes, a BOM first, in chunks of about 1,000 rows."""
    yield "\ufeff".encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(h) for h in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_text(v) for v in row])
        if n % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def parquet_rows(path: Path, *, batch_size: int = 50_000) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the rows of a Parquet file, read batch by batch."""
    pf = pq.ParquetFile(path)

    def rows() -> Iterator[list[Any]]:
        for batch in pf.iter_batches(batch_size=batch_size):
            yield from _cells(batch)

    return list(pf.schema_arrow.names), rows()


def write_csv(table: pa.Table, out: Path) -> None:
    """A table as an Excel-safe CSV file."""
    with out.open("wb") as fh:
        rows = (row for batch in table.to_batches(max_chunksize=50_000) for row in _cells(batch))
        for chunk in csv_chunks(list(table.column_names), rows):
            fh.write(chunk)


def xlsx_bytes(header: list[str], rows: Iterable[list[Any]], *, sheet: str = "data") -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append([safe_text(h) for h in header])
    for row in rows:
        ws.append([safe_text(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
