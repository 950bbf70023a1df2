"""The attack suite: queries meant to see what a contract does not grant. Every one must be
refused, or made harmless (answered only in the shape the contract allows). They run
through ``governance.govern`` (the rewrite) and, for the ones that pass it, through the real
locked-down engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from yaosu.access import governance
from yaosu.access.engines import DuckDBEngine
from yaosu.kernel.errors import QueryFailed, QueryRefused
from yaosu.kernel.settings import Settings

T = "ds_people"
OTHER = "ds_secret"
COLUMNS = {"town": "VARCHAR", "kind": "VARCHAR", "fee": "BIGINT", "id_no": "VARCHAR"}
GRANT = governance.Grant(
    dataset_id=T,
    source="__src_people",
    columns=COLUMNS,
    all_columns=frozenset({*COLUMNS, "name", "phone"}),
    masks={"id_no": "hash"},
    row_filter="kind <> 'suspended'",
    unit="id_no",
    mask_key="s3cr3t",
)
GRANTS = {T: GRANT}

# Each attack: the SQL, and a word the refusal must contain (what refused it, in English).
AGGREGATE_ONLY = [
    # raw rows, however dressed
    (f"SELECT * FROM {T}", "aggregates or grouping fields"),
    (f"SELECT town FROM {T}", "aggregates or grouping fields"),
    (f"WITH x AS (SELECT * FROM {T}) SELECT * FROM x", "subqueries or CTEs"),
    (f"SELECT * FROM (SELECT * FROM {T}) s", "subqueries or CTEs"),
    (f"SELECT COUNT(*) FROM (SELECT town FROM {T}) s", "subqueries or CTEs"),
    (f"SELECT town, COUNT(*) FROM {T} GROUP BY town HAVING COUNT(*) = 1", "HAVING"),
    (f"SELECT DISTINCT town FROM {T}", "DISTINCT"),
    (f"SELECT town, (SELECT fee FROM {T} LIMIT 1) FROM {T} GROUP BY town", "subqueries"),
    # one row per person
    (f"SELECT town, ROW_NUMBER() OVER (PARTITION BY town) FROM {T}", "window functions"),
    (f"SELECT SUM(fee) OVER () FROM {T}", "window functions"),
    (f"SELECT town, MIN(fee) FROM {T} GROUP BY town", "MIN"),
    (f"SELECT town, MAX(fee) FROM {T} GROUP BY town", "MAX"),
    (f"SELECT COUNT(DISTINCT fee) FROM {T}", "not allowed"),
    (f"SELECT town, LIST(fee) FROM {T} GROUP BY town", "not allowed"),
    (f"SELECT town, STRING_AGG(kind, ',') FROM {T} GROUP BY town", "not allowed"),
    (f"SELECT ARG_MAX(town, fee) FROM {T}", "not allowed"),
    (f"SELECT town, COUNT(*) FROM {T} GROUP BY id_no, town", "masked field id_no"),
    (f"SELECT id_no, COUNT(*) FROM {T} GROUP BY id_no", "masked field id_no"),
    (f"SELECT SUM(id_no) FROM {T}", "masked field id_no"),
    # unauthorised data
    (f"SELECT COUNT(*) FROM {OTHER}", f"does not cover the dataset {OTHER}"),
    (f"SELECT COUNT(*) FROM {T} UNION ALL SELECT COUNT(*) FROM {OTHER}", "does not cover"),
    (f"SELECT COUNT(*) FROM {T} UNION ALL SELECT COUNT(*) FROM {T}", "set operations"),
    (f"SELECT COUNT(name) FROM {T}", "does not grant the field name"),
    (f"SELECT COUNT(*) FROM {T} WHERE phone = '13800000000'", "does not grant the field phone"),
    (f"SELECT COUNT(*) FROM {T} a JOIN {T} b ON a.town = b.town", "without joins"),
    (f"SELECT COUNT(*) FROM {T}, {T} b", "without joins"),
    (f"SELECT COUNT(*) FROM main.{T}", "not accessible"),
    ('SELECT COUNT(*) FROM "__src_people"', "does not cover the dataset __src_people"),
    # error oracles and computed filters
    (f"SELECT COUNT(*) FROM {T} WHERE CAST(town AS INT) = 1", "CAST"),
    (f"SELECT COUNT(*) FROM {T} WHERE fee / 0 = 1", "arithmetic"),
    (f"SELECT COUNT(*) FROM {T} WHERE CASE WHEN town = 'a' THEN 1 ELSE 0 END = 1", "CASE"),
    (f"SELECT COUNT(*) FROM {T} WHERE fee * 9223372036854775807 > 0", "arithmetic"),
    (f"SELECT COUNT(*) FROM {T} WHERE LN(fee) > 1", "not allowed"),
    (f"SELECT COUNT(*) FROM {T} WHERE id_no = 'x'", "masked field id_no"),
    # files, network, settings, environment, the engine itself
    ("SELECT * FROM read_parquet('/etc/passwd')", "not allowed"),
    ("SELECT * FROM read_csv_auto('s3://bucket/x.csv')", "not allowed"),
    ("SELECT * FROM glob('/*')", "not allowed"),
    ("SELECT getenv('HOME')", "not allowed"),
    ("SELECT current_setting('memory_limit')", "not allowed"),
    ("SELECT * FROM duckdb_settings()", "not allowed"),
    ("SELECT * FROM duckdb_tables()", "not allowed"),
    ("SELECT * FROM 'file.parquet'", "does not cover the dataset file.parquet"),
]

ANY_CONTRACT = [
    # not a read-only SELECT, or more than one statement
    (f"DROP TABLE {T}", "only a read-only SELECT"),
    (f"DELETE FROM {T}", "only a read-only SELECT"),
    (f"UPDATE {T} SET fee = 0", "only a read-only SELECT"),
    (f"INSERT INTO {T} VALUES (1)", "only a read-only SELECT"),
    (f"CREATE TABLE x AS SELECT * FROM {T}", "only a read-only SELECT"),
    ("PRAGMA database_list", "only a read-only SELECT"),
    ("SET enable_external_access = true", "only a read-only SELECT"),
    ("ATTACH '/tmp/x.db' AS x", "only a read-only SELECT"),
    (f"COPY {T} TO '/tmp/out.csv'", "only a read-only SELECT"),
    ("INSTALL httpfs", "only a read-only SELECT"),
    ("LOAD httpfs", "only a read-only SELECT"),
    ("CALL pragma_version()", "only a read-only SELECT"),
    ("EXPORT DATABASE '/tmp/x'", "does not parse"),
    (f"SELECT COUNT(*) FROM {T}; DROP TABLE {T}", "exactly one statement"),
    (f"SELECT COUNT(*) FROM {T} /* hide */; SELECT * FROM {OTHER}", "exactly one statement"),
    (f"SELECT COUNT(*) FROM {T} -- comment\n; PRAGMA version", "exactly one statement"),
    ("SELEC COUNT(*) FRM x", "does not parse"),
    ("", "exactly one statement"),
    # CTEs shadowing a dataset, identifiers dressed up
    (f"WITH {T} AS (SELECT 1 AS fee) SELECT * FROM {T}", "may not take the name of a dataset"),
    (f'WITH "{T}" AS (SELECT 1) SELECT * FROM "{T}"', "may not take the name of a dataset"),
    (f'SELECT "NAME" FROM {T}', "NAME"),
    (f'SELECT COUNT("Name") FROM "{T}"', "Name"),
]


@pytest.mark.parametrize(("query", "words"), AGGREGATE_ONLY + ANY_CONTRACT)
def test_aggregate_only_contracts_refuse(query: str, words: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        governance.govern(query, GRANTS, aggregate_only=True, dp=True, bounds={"fee": (0, 1000)})
    message = refused.value.message("en")
    assert words.lower() in message.lower(), message
    assert refused.value.message("zh-CN") != message  # and in Chinese


@pytest.mark.parametrize(("query", "words"), ANY_CONTRACT)
def test_row_level_contracts_refuse_the_same(query: str, words: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        governance.govern(query, GRANTS, aggregate_only=False, dp=False)
    assert words.lower() in refused.value.message("en").lower()


ROW_LEVEL = [
    # row-level contracts may read rows, but only what is granted, masked, and filtered
    (f"SELECT * FROM {T} a JOIN {T} b ON a.id_no = b.id_no", "masked field id_no"),
    (f"SELECT * FROM {T} ORDER BY id_no LIMIT 1", "masked field id_no"),
    (f"SELECT town FROM {T} WHERE id_no LIKE '110%'", "masked field id_no"),
    (f"SELECT name FROM {T}", "does not grant the field name"),
    (f"SELECT * FROM {T} UNION SELECT * FROM {OTHER}", f"does not cover the dataset {OTHER}"),
    (f"SELECT town, ROW_NUMBER() OVER () FROM {T}", "window functions"),
]


@pytest.mark.parametrize(("query", "words"), ROW_LEVEL)
def test_row_level_attacks(query: str, words: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        governance.govern(query, GRANTS, aggregate_only=False, dp=False)
    assert words.lower() in refused.value.message("en").lower()


def test_the_suite_is_large_enough() -> None:
    assert len(AGGREGATE_ONLY) + len(ANY_CONTRACT) + len(ROW_LEVEL) >= 60


# --- what passes the rewrite is harmless in the engine ---------------------------------------


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DuckDBEngine, dict[str, Path]]]:
    folder = tmp_path_factory.mktemp("people")
    rows = 200
    table = pa.table(
        {
            "town": [f"town{i % 4}" for i in range(rows)],
            "kind": ["suspended" if i % 10 == 0 else "normal" for i in range(rows)],
            "fee": [i * 10 for i in range(rows)],
            "id_no": [f"11010519900101{i:04d}" for i in range(rows)],
            "name": [f"name{i}" for i in range(rows)],
            "phone": [f"138{i:08d}" for i in range(rows)],
        }
    )
    path = folder / "people.parquet"
    pq.write_table(table, path)
    settings = Settings(home=folder, query_seconds=5, query_memory_mb=256, query_workers=1)
    runner = DuckDBEngine(settings)
    yield runner, {"__src_people": path}
    runner.close()


def test_rows_come_back_masked_filtered_and_granted_only(
    engine: tuple[DuckDBEngine, dict[str, Path]],
) -> None:
    runner, sources = engine
    governed = governance.govern(f"SELECT * FROM {T}", GRANTS, aggregate_only=False, dp=False)
    table = runner.run(governed.rewritten, sources)
    assert table.column_names == ["town", "kind", "fee", "id_no"]  # no name, no phone
    assert "suspended" not in table.column("kind").to_pylist()  # the row filter
    ids = table.column("id_no").to_pylist()
    assert all(len(v) == 64 and not v.startswith("110105") for v in ids)  # keyed hashes


def test_groups_below_the_minimum_never_show(engine: tuple[DuckDBEngine, dict[str, Path]]) -> None:
    runner, sources = engine
    governed = governance.govern(
        f"SELECT fee_band, COUNT(*) AS n FROM {T} GROUP BY fee_band".replace("fee_band", "town"),
        GRANTS,
        aggregate_only=True,
        dp=False,
        min_group_size=46,
    )
    table = runner.run(governed.rewritten, sources)
    counts = dict(zip(table.column("k0").to_pylist(), table.column("__n").to_pylist(), strict=True))
    assert counts and all(n >= 46 for n in counts.values())
    assert len(counts) < 4  # towns whose filtered count is 45 are gone


def test_grouping_by_a_near_unique_field_releases_nothing(
    engine: tuple[DuckDBEngine, dict[str, Path]],
) -> None:
    """GROUP BY a field that is (nearly) one value per person is not refused: under DP every
    group's noisy count falls below the threshold, so no group, and no person, shows."""
    from yaosu.access import dp

    runner, sources = engine
    governed = governance.govern(
        f"SELECT fee, COUNT(*) AS n FROM {T} GROUP BY fee", GRANTS, aggregate_only=True, dp=True
    )
    exact = runner.run(governed.rewritten, sources)
    assert exact.num_rows == 180  # one group per person before release
    released = dp.release(exact, governed, epsilon=1.0, delta=1e-6, bounds={}, min_group_size=10)
    assert released.table.num_rows == 0
    assert not hasattr(released, "groups_suppressed")  # rows + withheld = the exact count


def test_a_huge_cross_join_is_stopped_not_hung(
    engine: tuple[DuckDBEngine, dict[str, Path]],
) -> None:
    runner, sources = engine
    governed = governance.govern(
        f"SELECT COUNT(*) AS n FROM {T} a, {T} b, {T} c, {T} d, {T} e, {T} f",
        GRANTS,
        aggregate_only=False,
        dp=False,
    )
    with pytest.raises(QueryFailed) as failed:
        runner.run(governed.rewritten, sources)
    assert failed.value.detail["kind"] in ("timeout", "memory")
    # and the engine still answers afterwards
    ok = governance.govern(f"SELECT COUNT(*) AS n FROM {T}", GRANTS, aggregate_only=False, dp=False)
    assert runner.run(ok.rewritten, sources).column("n").to_pylist() == [180]
