"""Column profiles of a stored version, computed by DuckDB over the Parquet file.

Profiles are metadata, shown to anyone who can see the dataset, so they must
not leak records: text columns report lengths rather than values, and a
"frequent value" is shown only when at least ``MIN_FREQUENCY`` rows share it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

MIN_FREQUENCY = 10  # a k-anonymity style floor for values shown in the profile
TOP_K = 5
# Frequent values describe categorical columns; on near-unique ones (IDs, amounts) the
# GROUP BY costs a full hash table and finds nothing at MIN_FREQUENCY, so it is skipped.
TOP_MAX_DISTINCT = 10_000
BATCH_COLUMNS = 100  # columns profiled per query: memory and plan size stay bounded


def kind_of(arrow_type: pa.DataType) -> str:
    t = pa.types
    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_integer(arrow_type):
        return "integer"
    if t.is_floating(arrow_type) or t.is_decimal(arrow_type):
        return "number"
    if t.is_timestamp(arrow_type):
        return "timestamp"
    if t.is_date(arrow_type):
        return "date"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "string"
    return "other"


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def profile(con: duckdb.DuckDBPyConnection, parquet: Path) -> list[dict[str, Any]]:
    """One entry per column. The aggregates go to DuckDB ``BATCH_COLUMNS`` columns at a time:
    one SELECT over every column of a wide file would build an enormous plan and hold every
    column's aggregate state at once (100,000 columns took gigabytes)."""
    schema = pq.read_schema(parquet)
    kinds = [kind_of(field.type) for field in schema]
    stats: dict[str, Any] = {}
    for first in range(0, max(len(schema), 1), BATCH_COLUMNS):
        positions = range(first, min(first + BATCH_COLUMNS, len(schema)))
        stats |= _aggregates(con, parquet, schema, kinds, positions)
    total = int(stats["n"])
    out = []
    for i, field in enumerate(schema):
        nulls = total - int(stats[f"nn{i}"])
        entry: dict[str, Any] = {
            "name": field.name,
            "type": str(field.type),
            "kind": kinds[i],
            "nulls": nulls,
            "null_ratio": round(nulls / total, 6) if total else 0.0,
            "distinct_estimate": int(stats[f"d{i}"]),
        }
        if f"min{i}" in stats:
            key = "length" if kinds[i] == "string" else "range"
            entry[key] = {"min": _plain(stats[f"min{i}"]), "max": _plain(stats[f"max{i}"])}
        if f"avg{i}" in stats and stats[f"avg{i}"] is not None:
            entry["mean"] = round(float(stats[f"avg{i}"]), 6)
        out.append(entry)
    categorical = [
        i
        for i, entry in enumerate(out)
        if entry["distinct_estimate"] <= TOP_MAX_DISTINCT and kinds[i] != "other"
    ]
    tops: dict[int, list[dict[str, Any]]] = {}
    for first in range(0, len(categorical), BATCH_COLUMNS):
        tops |= _tops(parquet, schema, categorical[first : first + BATCH_COLUMNS])
    for i, entry in enumerate(out):
        entry["top"] = tops.get(i, [])
    return out


def _aggregates(
    con: duckdb.DuckDBPyConnection,
    parquet: Path,
    schema: pa.Schema,
    kinds: list[str],
    positions: range,
) -> dict[str, Any]:
    """The row count and the aggregates of the columns at ``positions``, in one scan."""
    selects: list[exp.Expr] = [exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True)]
    for i in positions:
        c = _col(schema[i].name)
        kind = kinds[i]
        selects += [
            exp.alias_(exp.Count(this=c), f"nn{i}", quoted=True),
            exp.alias_(exp.func("approx_count_distinct", c), f"d{i}", quoted=True),
        ]
        if kind in ("integer", "number", "date", "timestamp", "boolean"):
            selects += [
                exp.alias_(exp.Min(this=c), f"min{i}", quoted=True),
                exp.alias_(exp.Max(this=c), f"max{i}", quoted=True),
            ]
        if kind in ("integer", "number"):
            selects.append(exp.alias_(exp.Avg(this=c), f"avg{i}", quoted=True))
        if kind == "string":
            length = exp.Length(this=c)
            selects += [
                exp.alias_(exp.Min(this=length), f"min{i}", quoted=True),
                exp.alias_(exp.Max(this=length), f"max{i}", quoted=True),
            ]
    query = exp.select(*selects).from_("read_parquet(?)", dialect="duckdb").sql("duckdb")
    cursor = con.execute(query, [str(parquet)])
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchall()[0], strict=True))


def _tops(
    parquet: Path, schema: pa.Schema, positions: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Frequent values of a batch of categorical columns: value counts (at most about
    ``TOP_MAX_DISTINCT`` per column) summed over row batches read by Arrow, so memory stays
    at one row batch of these columns; of them, values at least ``MIN_FREQUENCY`` rows share
    are kept, the ``TOP_K`` most frequent first. (DuckDB's ``histogram`` costs a tenth of a
    second per hundred columns even on three rows, which adds up on wide files.)"""
    names = [schema[i].name for i in positions]
    totals: list[Counter[Any]] = [Counter() for _ in positions]
    rows = max(1024, (1 << 22) // max(1, len(names)))  # about four million cells a batch
    for batch in pq.ParquetFile(parquet).iter_batches(batch_size=rows, columns=names):
        for total, column in zip(totals, batch.columns, strict=True):
            counts = pc.value_counts(pc.drop_null(column))
            values, ks = counts.field("values").to_pylist(), counts.field("counts").to_pylist()
            total.update(dict(zip(values, ks, strict=True)))
    tops = {}
    for i, total in zip(positions, totals, strict=True):
        frequent = [(v, k) for v, k in total.items() if k >= MIN_FREQUENCY]
        frequent.sort(key=lambda vk: (-vk[1], str(vk[0])))
        tops[i] = [{"value": _plain(v), "count": int(k)} for v, k in frequent[:TOP_K]]
    return tops


def _plain(value: Any) -> Any:
    """JSON-friendly values for the metadata store."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
