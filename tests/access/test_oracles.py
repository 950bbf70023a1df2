"""Issue 11, section 4: governed SQL must not answer a question by failing, leak how many
groups it hid, ignore what it was asked, charge for bad inputs, crash on odd text, or speak
sqlglot. Each test here failed on the code before the fix."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from fastapi.testclient import TestClient
from sqlglot import exp

from tests.access.test_attacks import AGGREGATE_ONLY, ANY_CONTRACT, GRANTS, ROW_LEVEL, T
from tests.conftest import actor, auth, dataset_id, demo_contract_id
from yaosu.access import dp, engines, governance, service
from yaosu.access.engines import DuckDBEngine
from yaosu.authorization.models import Contract
from yaosu.context import Context
from yaosu.kernel.errors import (
    InvalidInput,
    QueryFailed,
    QueryFailedCharged,
    QueryInvalid,
    QueryRefused,
)
from yaosu.kernel.settings import Settings

FEE = "缴费档次(元)"


@pytest.fixture
def demo(ctx: Context) -> Iterator[tuple[Context, str, str]]:
    with ctx.db.transaction() as session:
        contract = demo_contract_id(session)  # the coop's DP contract
    yield ctx, str(contract), dataset_id(ctx, "参保人员")
    service.close_engines(ctx)


def _spent(ctx: Context, contract: str) -> tuple[int, float]:
    with ctx.db.transaction() as session:
        row = session.get(Contract, contract)
        assert row is not None
        return row.uses, row.epsilon_spent


# --- the error oracle ------------------------------------------------------------------------

# Each filter fails in the engine only on some values (a text/number conversion done row by
# row), so "error" versus "answer" would tell whether a matching row exists.
ORACLES = [
    f"SELECT COUNT(*) AS n FROM {{t}} WHERE 所属乡镇 = '{{town}}' AND \"{FEE}\" = 'abc'",
    f"SELECT COUNT(*) AS n FROM {{t}} WHERE 所属乡镇 = '{{town}}' AND \"{FEE}\" IN (100, 'x')",
    f"SELECT COUNT(*) AS n FROM {{t}} WHERE 所属乡镇 = '{{town}}' AND \"{FEE}\" BETWEEN 'a' AND 'b'",
    "SELECT COUNT(*) AS n FROM {t} WHERE 所属乡镇 = '{town}' AND 参保类型 = 1",
    "SELECT COUNT(*) AS n FROM {t} WHERE 所属乡镇 = '{town}' AND 参保类型 > 0",
]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_query_that_fails_only_when_a_row_matches_is_refused_before_it_runs(
    demo: tuple[Context, str, str], engine: str
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    before = _spent(ctx, contract)
    for template in ORACLES:
        for town in ("不存在的乡镇", "城关镇"):
            query = template.format(t=residents, town=town)
            with pytest.raises(QueryInvalid) as refused:
                service.run_query(
                    ctx, coop, contract_id=contract, query=query, epsilon=0.1, engine=engine
                )
            assert refused.value.status == 422
            message = refused.value.message("en")
            assert "like with like" in message and "TRY_CAST" in message, message
            assert refused.value.message("zh-CN") != message
    assert _spent(ctx, contract) == before  # refused before the debit: nothing charged


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT COUNT(*) FROM {T} WHERE fee = '5'",
        f"SELECT COUNT(*) FROM {T} WHERE town = 5",
        f"SELECT COUNT(*) FROM {T} WHERE 5 <> town",
        f"SELECT COUNT(*) FROM {T} WHERE town IN ('a', 1)",
        f"SELECT COUNT(*) FROM {T} WHERE fee BETWEEN 1 AND '9'",
        f"SELECT town, COUNT(*) FROM {T} WHERE NOT (fee >= 'x') GROUP BY town",
        f"SELECT COUNT(*) FROM {T} WHERE town IS TRUE",
        f"SELECT COUNT(*) FROM {T} WHERE kind IS NOT FALSE",
    ],
)
def test_every_text_number_mix_is_refused_under_dp(query: str) -> None:
    with pytest.raises(QueryInvalid):
        governance.govern(query, GRANTS, aggregate_only=True, dp=True)


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT * FROM {T} WHERE town = 1",
        f"SELECT COALESCE(town, 1) AS x FROM {T}",
        f"SELECT fee + town AS x FROM {T}",
        f"SELECT GREATEST(fee, 'a') AS x FROM {T}",
        f"SELECT CASE WHEN fee > 1 THEN town ELSE 0 END AS x FROM {T}",
        f"SELECT NULLIF(fee, 'x') AS x FROM {T}",
        f"SELECT ABS(town) AS x FROM {T}",
        f"SELECT * FROM {T} WHERE id_no = 5",  # a masked field is text, whatever it was
    ],
)
def test_row_level_queries_are_type_checked_too(query: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        governance.govern(query, GRANTS, aggregate_only=False, dp=False)
    assert refused.value.status in (403, 422)


def test_a_date_literal_compared_with_a_date_is_fine_and_a_bad_one_is_not() -> None:
    grants = {
        "ds_d": governance.Grant(
            "ds_d", "__src_d", {"day": "DATE", "n": "BIGINT"}, frozenset({"day", "n"})
        )
    }
    governance.govern(
        "SELECT COUNT(*) FROM ds_d WHERE day >= '2024-01-01'", grants, aggregate_only=True, dp=True
    )
    with pytest.raises(QueryInvalid):
        governance.govern(
            "SELECT COUNT(*) FROM ds_d WHERE day >= 'soon'", grants, aggregate_only=True, dp=True
        )


@pytest.fixture(scope="module")
def people(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DuckDBEngine, dict[str, Path]]]:
    folder = tmp_path_factory.mktemp("oracle")
    rows = 50
    pq.write_table(
        pa.table(
            {
                "town": [f"town{i % 2}" for i in range(rows)],
                "kind": ["suspended" if i == 7 else "normal" for i in range(rows)],
                # one hidden row (filtered out by the contract) holds the largest integer,
                # one visible row the smallest
                "fee": [
                    9_223_372_036_854_775_807
                    if i == 7
                    else -9_223_372_036_854_775_808
                    if i == 8
                    else i
                    for i in range(rows)
                ],
                "id_no": [f"id{i}" for i in range(rows)],
                "name": [f"n{i}" for i in range(rows)],
                "phone": [f"p{i}" for i in range(rows)],
            }
        ),
        folder / "p.parquet",
    )
    runner = DuckDBEngine(Settings(home=folder, query_workers=1, query_seconds=20))
    yield runner, {"__src_people": folder / "p.parquet"}
    runner.close()


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT fee + 1 AS x FROM {T}",
        f"SELECT fee * 2 AS x FROM {T} WHERE town = 'town1'",
        f"SELECT -fee - 2 AS x FROM {T}",
        f"SELECT fee % 0 AS x FROM {T}",
        f"SELECT fee // 0 AS x FROM {T}",
        f"SELECT ABS(fee - 9223372036854775807 - 1) AS x FROM {T}",
        f"SELECT town FROM {T} WHERE fee * 2 > 10",
    ],
)
def test_row_level_computations_that_can_fail_on_a_value_answer_null_instead(
    people: tuple[DuckDBEngine, dict[str, Path]], query: str
) -> None:
    """Overflow and division by zero fail on some values only (here: on a row the contract's
    filter hides, which the engine may evaluate first): an oracle, unless they cannot fail."""
    runner, sources = people
    governed = governance.govern(query, GRANTS, aggregate_only=False, dp=False)
    table = runner.run(governed.rewritten, sources)  # before the fix: QueryFailed
    assert table.num_rows > 0


def test_a_negated_field_in_an_aggregate_filter_cannot_fail_on_a_value(
    people: tuple[DuckDBEngine, dict[str, Path]],
) -> None:
    runner, sources = people
    governed = governance.govern(
        f"SELECT COUNT(*) AS n FROM {T} WHERE -fee = 1", GRANTS, aggregate_only=True, dp=True
    )
    assert runner.run(governed.rewritten, sources).num_rows == 1  # before: an overflow error


@pytest.mark.parametrize(
    ("literal", "canonical"),
    [("2024-W01-1", "2024-01-01"), ("20240101", "2024-01-01"), ("2024-03-05", "2024-03-05")],
)
def test_a_date_literal_is_written_back_in_the_form_every_engine_reads(
    literal: str, canonical: str
) -> None:
    grants = {"ds_d": governance.Grant("ds_d", "__src_d", {"day": "DATE"}, frozenset({"day"}))}
    governed = governance.govern(
        f"SELECT COUNT(*) FROM ds_d WHERE day >= '{literal}'",
        grants,
        aggregate_only=True,
        dp=True,
    )
    assert f"'{canonical}'" in governed.rewritten


class _Failing:
    name = "duckdb"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def run(self, sql_text: str, sources: dict[str, Path]) -> pa.Table:
        raise engines.failure(self.kind, 30)

    def close(self) -> None:
        """Nothing to release."""


@pytest.mark.parametrize(
    ("kind", "charged"),
    [
        ("conversion", True),
        ("range", True),
        ("timeout", True),
        ("memory", True),
        ("error", True),
        ("plan", False),
        ("crashed", False),
    ],
)
def test_a_failure_while_reading_data_is_charged_and_says_so(
    demo: tuple[Context, str, str], monkeypatch: pytest.MonkeyPatch, kind: str, charged: bool
) -> None:
    ctx, contract, residents = demo
    monkeypatch.setattr(service, "engine_for", lambda *_a, **_k: _Failing(kind))
    uses, spent = _spent(ctx, contract)
    with pytest.raises(QueryFailed) as failed:
        service.run_query(
            ctx,
            actor(ctx, "coop-manager"),
            contract_id=contract,
            query=f"SELECT COUNT(*) AS n FROM {residents}",
            epsilon=0.1,
        )
    message = failed.value.message("en")
    assert not re.search(r"[A-Z][a-z]+(Exception|Error)\b", message), message
    if charged:
        assert isinstance(failed.value, QueryFailedCharged)
        assert "charged" in message and "not refunded" in message
        assert _spent(ctx, contract) == (uses + 1, pytest.approx(spent + 0.1))
    else:
        assert not isinstance(failed.value, QueryFailedCharged)
        assert "nothing was charged" in message
        assert _spent(ctx, contract) == (uses, pytest.approx(spent))


# --- groups_suppressed ------------------------------------------------------------------------


def test_no_exact_count_of_withheld_groups_is_reported(
    demo: tuple[Context, str, str], app_client: TestClient
) -> None:
    ctx, contract, residents = demo
    result = service.run_query(
        ctx,
        actor(ctx, "coop-manager"),
        contract_id=contract,
        query=f'SELECT "{FEE}", COUNT(*) AS n FROM {residents} GROUP BY "{FEE}"',
        epsilon=0.2,
    )
    assert not hasattr(result, "groups_suppressed")
    answer = app_client.post(
        "/api/v1/queries",
        json={
            "contract_id": contract,
            "sql": f"SELECT 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 所属乡镇",
            "epsilon": 0.2,
        },
        headers=auth(ctx, "coop-manager"),
    )
    assert answer.status_code == 200, answer.text
    assert "groups_suppressed" not in answer.json()


# --- ORDER BY, LIMIT, OFFSET ------------------------------------------------------------------

AGG_GRANT = {
    "ds_p": governance.Grant(
        "ds_p", "__src", {"town": "VARCHAR", "fee": "BIGINT"}, frozenset({"town", "fee"})
    )
}


def _released(query: str, exact: dict[str, list[Any]]) -> list[list[Any]]:
    governed = governance.govern(query, AGG_GRANT, aggregate_only=True, dp=False, min_group_size=1)
    table = dp.suppress_small(pa.table(exact), governed)
    return governance.apply_order([list(r.values()) for r in table.to_pylist()], governed)


def test_order_limit_and_offset_apply_to_the_released_rows() -> None:
    exact = {"k0": ["a", "b", "c", "d"], "s1": [10.0, 40.0, 30.0, 20.0], "__n": [4, 1, 3, 2]}
    query = "SELECT town, SUM(fee) AS s, COUNT(*) AS n FROM ds_p GROUP BY town"
    assert [r[0] for r in _released(query + " ORDER BY n DESC", exact)] == ["a", "c", "d", "b"]
    assert [r[0] for r in _released(query + " ORDER BY s LIMIT 2", exact)] == ["a", "d"]
    assert [r[0] for r in _released(query + " ORDER BY 1 DESC LIMIT 2 OFFSET 1", exact)] == [
        "c",
        "b",
    ]
    assert [r[0] for r in _released(query + " ORDER BY COUNT(*) LIMIT 1", exact)] == ["b"]
    assert [r[0] for r in _released(query + " ORDER BY town OFFSET 3", exact)] == ["d"]


@pytest.mark.parametrize(
    ("tail", "words"),
    [
        ("ORDER BY AVG(fee)", "output columns"),
        ("ORDER BY fee", "output columns"),
        ("LIMIT 2.5", "whole number"),
        ("LIMIT 1 + 1", "whole number"),
        ("OFFSET -1", "whole number"),
    ],
)
def test_what_cannot_be_applied_to_released_rows_is_refused_with_a_message(
    tail: str, words: str
) -> None:
    with pytest.raises(QueryInvalid) as refused:
        governance.govern(
            f"SELECT town, COUNT(*) AS n FROM ds_p GROUP BY town {tail}",
            AGG_GRANT,
            aggregate_only=True,
            dp=True,
        )
    assert words in refused.value.message("en")


def test_a_private_answer_is_sorted_and_cut_as_asked(demo: tuple[Context, str, str]) -> None:
    ctx, contract, residents = demo
    result = service.run_query(
        ctx,
        actor(ctx, "coop-manager"),
        contract_id=contract,
        query=f"SELECT 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 所属乡镇 ORDER BY n DESC LIMIT 2",
        epsilon=0.5,
    )
    counts = [r[1] for r in result.rows]
    assert len(counts) == 2 and counts == sorted(counts, reverse=True)


# --- ε and bounds before the debit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("epsilon", "bounds"),
    [
        (1e-300, {}),
        (1e-9, {}),
        (math.nan, {}),
        (math.inf, {}),
        (0.1, {FEE: (0.0, 1e308)}),
        (0.1, {FEE: (-1e308, 0.0)}),
        (0.1, {FEE: (0.0, math.nan)}),
        (0.1, {FEE: (math.nan, 10.0)}),
        (0.1, {FEE: (0.0, math.inf)}),
        (0.1, {FEE: (10.0, 1.0)}),
    ],
)
def test_bad_epsilon_or_bounds_are_refused_before_anything_is_charged(
    demo: tuple[Context, str, str], epsilon: float, bounds: dict[str, tuple[float, float]]
) -> None:
    ctx, contract, residents = demo
    before = _spent(ctx, contract)
    with pytest.raises(InvalidInput) as refused:
        service.run_query(
            ctx,
            actor(ctx, "coop-manager"),
            contract_id=contract,
            query=f'SELECT 所属乡镇, AVG("{FEE}") AS a FROM {residents} GROUP BY 所属乡镇',
            epsilon=epsilon,
            bounds=bounds,
        )
    assert refused.value.status == 422
    assert _spent(ctx, contract) == before


def test_tiny_epsilon_and_huge_bounds_through_the_api(
    demo: tuple[Context, str, str], app_client: TestClient
) -> None:
    ctx, contract, residents = demo
    before = _spent(ctx, contract)
    headers = auth(ctx, "coop-manager")
    for epsilon, bounds in ((1e-300, {}), (0.1, {FEE: [0, 1e308]})):
        answer = app_client.post(
            "/api/v1/queries",
            json={
                "contract_id": contract,
                "sql": f'SELECT AVG("{FEE}") AS a FROM {residents}',
                "epsilon": epsilon,
                "bounds": bounds,
            },
            headers=headers,
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert _spent(ctx, contract) == before


# --- odd text: unterminated, deeply nested, no table -----------------------------------------

ODD = [
    ("SELECT COUNT(*) FROM t WHERE town = 'abc", "single quotes", (1, 37)),
    ("SELECT COUNT(*) FROM t\nWHERE town = 'abc", "single quotes", (2, 14)),
    ('SELECT COUNT(*) FROM "t', "double quotes", (1, 22)),
    ("SELECT COUNT(*) FROM t /* never closed", "comment", (1, 24)),
    ("SELECT " + "(" * 5000 + "1" + ")" * 5000, "nested too deeply", None),
    ("SELECT " + "NOT " * 4000 + "TRUE", "nested too deeply", None),
    ("SELECT " + " + ".join(["1"] * 3000) + " FROM t", "nested too deeply", None),
    ("SELECT COUNT(*) FROM t WHERE " + " AND ".join(["fee = 1"] * 1500), "nested too deeply", None),
    ("SELECT " + "- " * 6000 + "1", "nested too deeply", None),
    ("SELECT " + "[" * 3000, "nested too deeply", None),
]


@pytest.mark.parametrize(("query", "words", "where"), ODD)
def test_odd_text_answers_422_with_where_it_went_wrong(
    query: str, words: str, where: tuple[int, int] | None
) -> None:
    grants = {"t": AGG_GRANT["ds_p"]}
    with pytest.raises(QueryInvalid) as refused:
        governance.govern(query, grants, aggregate_only=True, dp=True)
    assert refused.value.status == 422
    assert words in refused.value.message("en"), refused.value.message("en")
    if where is not None:
        assert (refused.value.detail["line"], refused.value.detail["column"]) == where


def test_odd_text_through_the_api_is_never_a_500(
    demo: tuple[Context, str, str], app_client: TestClient
) -> None:
    ctx, contract, residents = demo
    before = _spent(ctx, contract)
    headers = auth(ctx, "coop-manager")
    for query, _, _ in ODD:
        answer = app_client.post(
            "/api/v1/queries",
            json={
                "contract_id": contract,
                "sql": query.replace(" t", f" {residents}")[:20000],
                "epsilon": 0.1,
            },
            headers=headers,
        )
        assert answer.status_code == 422, (query[:40], answer.text)
        assert answer.json()["error"]["code"] == "QUERY_INVALID"
    assert _spent(ctx, contract) == before


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "SELECT 1 AS a, 'x' AS b",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "WITH x AS (SELECT 1 AS a), y AS (SELECT a FROM x) SELECT COUNT(*) FROM y",
        "SELECT 1 UNION ALL SELECT 2",
    ],
)
def test_a_query_naming_no_dataset_is_refused_in_words(
    demo: tuple[Context, str, str], query: str
) -> None:
    ctx, contract, _ = demo
    before = _spent(ctx, contract)
    with pytest.raises(QueryRefused) as refused:  # before the fix: IndexError
        service.run_query(
            ctx, actor(ctx, "coop-manager"), contract_id=contract, query=query, epsilon=0.1
        )
    assert refused.value.status in (403, 422)
    assert _spent(ctx, contract) == before
    for grants, aggregate in ((GRANTS, False), (GRANTS, True)):
        try:
            governance.govern(query, grants, aggregate_only=aggregate, dp=aggregate)
        except QueryRefused as exc:
            assert (
                "dataset" in exc.message("en")
                or "CTE" in exc.message("en")
                or "set operations" in exc.message("en")
            )
        else:
            raise AssertionError(f"{query} was governed")


# --- messages in words ------------------------------------------------------------------------

NODE_NAMES = {
    cls.__name__.upper()
    for cls in vars(exp).values()
    if isinstance(cls, type) and issubclass(cls, exp.Expr)
} | {"COMMAND", "BITWISEAND", "EXPLODE", "PLACEHOLDER"}
# SQL's own words, which a message may use to say what is allowed.
SQL_WORDS = {
    *[
        "SELECT",
        "FROM",
        "WHERE",
        "GROUP",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "HAVING",
        "DISTINCT",
        "COUNT",
        "SUM",
        "AVG",
        "MIN",
        "MAX",
    ],
    *[
        "CASE",
        "IF",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "IS",
        "NULL",
        "BETWEEN",
        "UNION",
        "INTERSECT",
        "EXCEPT",
        "CTE",
        "CAST",
        "INTERVAL",
    ],
    *["TRY_CAST", "JOIN", "WITH", "OVER", "ALL"],
}
EXTRA = [
    f"SELECT COUNT(*) FROM {T} WHERE fee & 1 = 1",
    f"SELECT ? FROM {T}",
    f"SELECT $1 FROM {T}",
    f"SELECT UNNEST([1, 2]) FROM {T}",
    f"SELECT town[1] FROM {T}",
    f"SELECT list_transform([1], x -> x + 1) FROM {T}",
    f"SELECT {{'a': 1}} FROM {T}",
    f"SELECT TRY(fee) FROM {T}",
    f"SELECT CAST(fee AS VARCHAR) FROM {T}",
    f"SELECT fee::VARCHAR FROM {T}",
    f"SELECT COUNT(*) FROM {T} WHERE town SIMILAR TO 'a'",
    f"SELECT COUNT(*) FROM {T} WHERE town GLOB 'a*'",
    f"SELECT COUNT(*) FROM {T} WHERE fee << 1 > 0",
    f"SELECT COUNT(*) FROM {T} WHERE town || 'a' = 'b'",
    f"SELECT COUNT(*) FROM {T} WHERE fee = (SELECT 1)",
    f"SELECT COUNT(*) FROM {T} WHERE fee IN (SELECT 1)",
    f"SELECT COUNT(*) FROM {T} WHERE EXISTS (SELECT 1)",
    f"SELECT COUNT(*) FROM {T} WHERE fee = ANY([1])",
    f"SELECT COUNT(*) FROM {T} WHERE INTERVAL 1 DAY IS NULL",
    f"SELECT COUNT(*) FROM {T} WHERE ROUND(fee) = 1",
    "SUMMARIZE SELECT 1",
    "DESCRIBE SELECT 1",
    "SHOW TABLES",
    "VACUUM",
    "CHECKPOINT",
    "DETACH x",
    "USE main",
    "RESET memory_limit",
    f"SELECT nope FROM {T}",
    f"SELECT x.town FROM {T}",
    f"SELECT COUNT(*) FROM {T} GROUP BY 9",
]


def _python_or_sqlglot_names(message: str, query: str) -> list[str]:
    """Words in a message that are sqlglot node names or Python class names, unless the user
    wrote them (a function named in the query may be named back)."""
    bad = [
        w
        for w in re.findall(r"\b[A-Z][A-Z_]{2,}\b", message)
        if w in NODE_NAMES - SQL_WORDS and w.lower() not in query.lower()
    ]
    bad += re.findall(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b", message)  # CamelCase: a class
    bad += [w for w in ("TokenError", "ParseError", "IndexError", "RecursionError") if w in message]
    return bad


def test_no_message_names_a_sqlglot_node_or_a_python_class() -> None:
    queries = (
        [q for q, _ in AGGREGATE_ONLY + ANY_CONTRACT + ROW_LEVEL] + EXTRA + [q for q, _, _ in ODD]
    )
    seen = 0
    for query in queries:
        for aggregate in (True, False):
            try:
                governance.govern(
                    query, GRANTS, aggregate_only=aggregate, dp=aggregate, bounds={"fee": (0, 9)}
                )
            except QueryRefused as exc:
                seen += 1
                for locale in ("en", "zh-CN"):
                    message = exc.message(locale)
                    assert not _python_or_sqlglot_names(message, query), (query, message)
                    if locale == "zh-CN":
                        assert re.search(r"[\u4e00-\u9fff]", message), message
    assert seen > 120


def test_engine_failures_are_said_in_words() -> None:
    for kind in (
        "timeout",
        "memory",
        "interrupted",
        "crashed",
        "plan",
        "conversion",
        "range",
        "error",
        "release",
    ):
        failed = engines.failure(kind, 30)
        for locale in ("en", "zh-CN"):
            message = failed.message(locale)
            assert f"({kind})" not in message, message
            assert not re.search(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", message), message
    # what the worker reports is a kind, never a DuckDB class name
    assert engines.failure("ConversionException", 1).message("en") == engines.failure(
        "error", 1
    ).message("en")


def test_the_sql_text_of_a_refusal_is_what_the_user_can_read() -> None:
    with pytest.raises(QueryRefused) as refused:
        governance.govern(
            f"SELECT COUNT(*) FROM {T} WHERE fee & 1 = 1", GRANTS, aggregate_only=True, dp=True
        )
    assert "bitwise" in refused.value.message("en") and "按位" in refused.value.message("zh-CN")
    assert sqlglot.parse_one("SELECT 1")  # sqlglot itself still parses what we hand it


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("SELECT COUNT(*) FROM t WHERE town = E'a\\'b'", "way of writing text"),
        ("SELECT COUNT(*) FROM t WHERE town = $$a'b$$", "way of writing text"),
        ("SELECT COUNT(*) FROM t WHERE town = E'a\\'", "single quotes is not closed"),
        ("SELECT COUNT(*) FROM t WHERE town = $$a", "$$ is not closed"),
    ],
)
def test_other_ways_of_writing_text_are_refused_in_words_not_misread(
    query: str, words: str
) -> None:
    with pytest.raises(QueryRefused) as refused:
        governance.govern(query, {"t": AGG_GRANT["ds_p"]}, aggregate_only=True, dp=True)
    assert words in refused.value.message("en")


@pytest.mark.parametrize(
    "query", ["SELECT 1", "SELECT 'x' AS a", "WITH x AS (SELECT 1 AS a) SELECT a FROM x"]
)
def test_a_row_level_contract_answers_a_query_naming_no_dataset_with_422(
    app_client: TestClient, ctx: Context, query: str
) -> None:
    """Before the fix: IndexError (a 500) after governing, on a contract that reads rows."""
    from tests.access.test_extracts import extract_contract

    contract = extract_contract(app_client, ctx)
    before = _spent(ctx, contract)
    answer = app_client.post(
        "/api/v1/queries",
        json={"contract_id": contract, "sql": query},
        headers=auth(ctx, "ai-analyst"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "QUERY_INVALID"
    assert (
        "dataset" in answer.json()["error"]["message"]
        or "数据集" in answer.json()["error"]["message"]
    )
    assert _spent(ctx, contract) == before
