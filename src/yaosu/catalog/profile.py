"""Column profiles of a stored version, computed by DuckDB over the Parquet file.

Profiles are metadata, shown to anyone who can see the dataset, so they must
not leak records: text columns report lengths rather than values, and a
"frequent value" is shown only when at least ``MIN_FREQUENCY`` rows share it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

MIN_FREQUENCY = 10  # a k-anonymity style floor for values shown in the profile
TOP_K = 5
# Frequent values describe categorical columns; on near-unique ones (IDs, amounts) the
# GROUP BY costs a full hash table and finds nothing at MIN_FREQUENCY, so it is skipped.
TOP_MAX_DISTINCT = 10_000


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
    schema = pq.read_schema(parquet)
    con.read_parquet(str(parquet)).create_view("profiled", replace=True)
    selects: list[exp.Expr] = [exp.alias_(exp.Count(this=exp.Star()), "n", quoted=True)]
    kinds = []
    for i, field in enumerate(schema):
        c = _col(field.name)
        kind = kind_of(field.type)
        kinds.append(kind)
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
    query = exp.select(*selects).from_("profiled").sql("duckdb")
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    stats = dict(zip(names, cursor.fetchall()[0], strict=True))
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
        categorical = entry["distinct_estimate"] <= TOP_MAX_DISTINCT and kinds[i] != "other"
        entry["top"] = _top(con, field.name) if categorical else []
        out.append(entry)
    return out


def _top(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    c = _col(name)
    query = (
        exp.select(
            exp.alias_(c, "v", quoted=True),
            exp.alias_(exp.Count(this=exp.Star()), "k", quoted=True),
        )
        .from_("profiled")
        .where(exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())))
        .group_by(c.copy())
        .having(
            exp.GTE(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(MIN_FREQUENCY))
        )
        .order_by(exp.Ordered(this=exp.column("k", quoted=True), desc=True))
        .limit(TOP_K)
        .sql("duckdb")
    )
    return [{"value": _plain(v), "count": int(k)} for v, k in con.execute(query).fetchall()]


def _plain(value: Any) -> Any:
    """JSON-friendly values for the metadata store."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
