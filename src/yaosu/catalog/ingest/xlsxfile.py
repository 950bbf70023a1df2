"""XLSX to Parquet with python-calamine, after proving the zip is not a bomb."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from python_calamine import CalamineError, CalamineWorkbook

from yaosu.catalog.ingest.common import check_column_names
from yaosu.catalog.ingest.errors import (
    CorruptFile,
    NoDataRows,
    SheetNotFound,
    TooManyColumns,
    ZipBomb,
)
from yaosu.catalog.ingest.identifiers import is_identifier


def check_zip(path: Path, *, max_bytes: int, max_ratio: int) -> None:
    """Refuse archives that inflate too far. Declared sizes can lie, so after checking
    them we inflate every member for real (zipfile stops at the declared size and the
    CRC check then fails), counting bytes, before calamine sees the file."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > max_bytes:
                raise ZipBomb(declared=declared, limit=max_bytes)
            for info in infos:
                if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(
                    info.compress_size, 1
                ):
                    raise ZipBomb(
                        member=info.filename, ratio=info.file_size // max(info.compress_size, 1)
                    )
            total = 0
            for info in infos:
                with zf.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        total += len(chunk)
                        if total > max_bytes:
                            raise ZipBomb(inflated=total, limit=max_bytes)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise CorruptFile(format="XLSX", problem=str(exc)[:200]) from exc


def to_parquet(path: Path, out: Path, *, sheet: str | None = None, max_columns: int) -> int:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        if sheet is not None and sheet not in names:
            raise SheetNotFound(sheet=sheet, sheets="、".join(names))
        chosen = workbook.get_sheet_by_name(sheet or names[0])
        if chosen.width > max_columns:  # before a row is turned into Python values
            raise TooManyColumns(columns=chosen.width, limit=max_columns)
        rows = chosen.to_python(skip_empty_area=True)
    except CalamineError as exc:
        raise CorruptFile(format="XLSX", problem=str(exc)[:200]) from exc
    except (ValueError, OSError) as exc:  # calamine raises these for broken archives too
        raise CorruptFile(format="XLSX", problem=str(exc)[:200]) from exc
    if not rows:
        raise NoDataRows()
    header = list(rows[0])
    body = [list(r) for r in rows[1:] if any(v not in ("", None) for v in r)]
    # Trailing columns with neither a name nor a value are Excel's used-range noise.
    while (
        header
        and header[-1] in ("", None)
        and all(len(r) < len(header) or r[len(header) - 1] in ("", None) for r in body)
    ):
        header.pop()
    names = check_column_names(header)
    if not body:
        raise NoDataRows()
    columns = {
        name: _column(name, [r[i] if i < len(r) else None for r in body])
        for i, name in enumerate(names)
    }
    table = pa.table(columns)
    pq.write_table(table, out, compression="snappy")
    return table.num_rows


def _column(name: str, values: list[Any]) -> pa.Array:
    values = [None if v == "" else v for v in values]
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if kinds <= {int, float} and kinds:
        # A phone number or ID typed as a number in Excel is still a code: text, as shown.
        shown = pa.array([None if v is None else _text(v) for v in values], pa.string())
        if is_identifier(name, shown):
            return shown
        if all(float(v).is_integer() and abs(v) < 2**53 for v in present):
            return pa.array([None if v is None else int(v) for v in values], pa.int64())
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    if kinds == {dt.datetime}:
        return pa.array(values, pa.timestamp("us"))
    if kinds == {dt.date}:
        return pa.array(values, pa.date32())
    if kinds and kinds <= {dt.date, dt.datetime}:
        return pa.array(
            [
                v if v is None or isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time())
                for v in values
            ],
            pa.timestamp("us"),
        )
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
