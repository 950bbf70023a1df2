"""One interface, two engines: every governed query gives the same exact answer (before
noise) on DuckDB and on Apache Spark (local mode here; Java 17 is on the machine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yaosu.access import governance
from yaosu.access.engines import DuckDBEngine, Engine, SparkEngine
from yaosu.kernel.settings import Settings

GRANTS = {
    "ds_p": governance.Grant(
        "ds_p",
        "__src_people",
        {"town": "VARCHAR", "kind": "VARCHAR", "fee": "BIGINT", "id_no": "VARCHAR"},
        frozenset({"town", "kind", "fee", "id_no", "name"}),
        masks={"id_no": "hash"},
        row_filter="kind <> 'suspended'",
        unit="id_no",
        mask_key="k",
    )
}
QUERIES = [
    ("SELECT town, COUNT(*) AS n, SUM(fee) AS f FROM ds_p GROUP BY town", True, {"fee": (0, 1000)}),
    (
        "SELECT kind, AVG(fee) AS a FROM ds_p WHERE fee BETWEEN 100 AND 900 GROUP BY kind",
        True,
        {"fee": (0, 2000)},
    ),
    ("SELECT COUNT(*) AS n FROM ds_p WHERE town IN ('town1', 'town2')", True, {}),
    ("SELECT * FROM ds_p WHERE fee > 100", False, {}),
    ("SELECT town, COUNT(*) AS n, MAX(fee) AS m FROM ds_p GROUP BY town", False, {}),
    (
        "WITH t AS (SELECT town, fee FROM ds_p) SELECT town, SUM(fee) AS s FROM t GROUP BY town",
        False,
        {},
    ),
    (
        "SELECT UPPER(town) AS t, ROUND(fee / 3.0, 2) AS r FROM ds_p WHERE kind = 'normal'",
        False,
        {},
    ),
]


@pytest.fixture(scope="module")
def engines(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Engine], dict[str, Path]]]:
    folder = tmp_path_factory.mktemp("engines")
    rows = 300
    pq.write_table(
        pa.table(
            {
                "town": [f"town{i % 4}" for i in range(rows)],
                "kind": ["suspended" if i % 10 == 0 else "normal" for i in range(rows)],
                "fee": [i * 10 for i in range(rows)],
                "id_no": [f"11010519900101{i:04d}" for i in range(rows)],
                "name": [f"n{i}" for i in range(rows)],
            }
        ),
        folder / "p.parquet",
    )
    settings = Settings(home=folder, spark_master="local[2]")
    made: dict[str, Engine] = {"duckdb": DuckDBEngine(settings), "spark": SparkEngine(settings)}
    yield made, {"__src_people": folder / "p.parquet"}
    for e in made.values():
        e.close()


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    """Rows compared by value: Spark reads 3.0 as a DECIMAL where DuckDB reads a DOUBLE."""
    from decimal import Decimal

    out = []
    for row in table.to_pylist():
        out.append(
            tuple(round(float(v), 6) if isinstance(v, float | Decimal) else v for v in row.values())
        )
    return sorted(out, key=repr)


@pytest.mark.parametrize(("query", "aggregate", "bounds"), QUERIES)
def test_duckdb_and_spark_agree(
    engines: tuple[dict[str, Engine], dict[str, Path]],
    query: str,
    aggregate: bool,
    bounds: dict[str, tuple[float, float]],
) -> None:
    made, sources = engines
    governed = governance.govern(
        query, GRANTS, aggregate_only=aggregate, dp=aggregate, bounds=bounds
    )
    duck = made["duckdb"].run(governed.rewritten, sources)
    spark = made["spark"].run(governed.rewritten, sources)
    assert duck.column_names == spark.column_names
    assert _rows(duck) == _rows(spark)
    assert duck.num_rows > 0
