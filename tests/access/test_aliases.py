"""Words, not ids: governed SQL names a dataset by the alias its contract defines
(``FROM 参保人员``); the request chooses it (or takes its title's), the contract keeps it; and the
request form says how accurate a typical answer would be at the ε asked for."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.access.conftest import spent
from tests.authorization.test_requests import approved, ask
from tests.conftest import actor, auth, dataset_id, demo_contract_id
from tests.console.test_pages import csrf, login
from yaosu.access import governance, service
from yaosu.access.engines import DuckDBEngine
from yaosu.authorization.aliases import (
    MAX_LENGTH,
    alias_problems,
    choose_aliases,
    default_aliases,
    identifier_from,
)
from yaosu.authorization.models import AccessRequest, Contract
from yaosu.context import Context
from yaosu.kernel.errors import InvalidInput, QueryInvalid, QueryRefused
from yaosu.kernel.settings import Settings

GRANT = governance.Grant(
    "ds_p",
    "__src_people",
    {"town": "VARCHAR", "fee": "BIGINT"},
    frozenset({"town", "fee", "name"}),
)
OTHER = governance.Grant("ds_q", "__src_other", {"town": "VARCHAR"}, frozenset({"town"}))
GRANTS = {"ds_p": GRANT}
ALIASES = {"人员": "ds_p"}


def govern(sql: str, aliases: dict[str, str] = ALIASES, **kw: object) -> governance.Governed:
    return governance.govern(
        sql,
        kw.pop("grants", GRANTS),  # type: ignore[arg-type]
        aggregate_only=True,
        dp=False,
        min_group_size=2,
        aliases=aliases,
    )


# --- resolution ------------------------------------------------------------------------------


def test_an_alias_is_the_dataset_for_every_later_rule() -> None:
    by_alias = govern("SELECT town, COUNT(*) AS n FROM 人员 GROUP BY town")
    assert by_alias.tables == ["ds_p"]
    assert "__src_people" in by_alias.rewritten and "人员" not in by_alias.tables
    # qualified by the alias, in any case, quoted or not: the same dataset
    for sql in (
        "SELECT 人员.town, COUNT(*) AS n FROM 人员 GROUP BY 人员.town",
        'SELECT p.town, SUM(p.fee) AS s FROM "人员" AS p GROUP BY p.town',
    ):
        assert govern(sql).tables == ["ds_p"]
    assert govern("SELECT COUNT(*) AS n FROM PEOPLE", {"people": "ds_p"}).tables == ["ds_p"]
    # the rules after it see the real dataset: an ungranted field is still refused
    with pytest.raises(QueryRefused, match="does not grant the field name"):
        govern("SELECT COUNT(name) AS n FROM 人员")
    with pytest.raises(QueryInvalid, match="人员"):  # a query of no table names the alias
        govern("SELECT 1 AS n")


def test_ds_names_are_never_resolved_through_aliases() -> None:
    # an alias map naming ds_q as ds_p would let a query read p by another dataset's id
    with pytest.raises(QueryRefused, match="does not cover the dataset ds_q"):
        govern("SELECT COUNT(*) AS n FROM ds_q", {"ds_q": "ds_p"})
    assert govern("SELECT COUNT(*) AS n FROM ds_p").tables == ["ds_p"]  # ids still work


def test_an_alias_of_a_dataset_outside_the_contract_is_refused() -> None:
    with pytest.raises(QueryRefused, match="does not cover the dataset 其他"):
        govern("SELECT COUNT(*) AS n FROM 其他", {"其他": "ds_q", **ALIASES})
    with pytest.raises(QueryRefused, match="does not cover the dataset 人员"):
        govern("SELECT COUNT(*) AS n FROM 人员", ALIASES, grants={"ds_q": OTHER})


def test_a_cte_may_not_shadow_an_alias() -> None:
    with pytest.raises(QueryRefused, match="CTE may not take the name 人员"):
        governance.govern(
            "WITH 人员 AS (SELECT town FROM ds_p) SELECT town, COUNT(*) AS n FROM 人员 GROUP BY town",
            GRANTS,
            aggregate_only=False,
            dp=False,
            aliases=ALIASES,
        )


def test_the_aliases_are_part_of_the_cache_key() -> None:
    sql = "SELECT COUNT(*) AS n FROM 人员"
    assert govern(sql).tables == ["ds_p"]
    with pytest.raises(QueryRefused, match="does not cover"):
        govern(sql, {})  # the same text under a contract without the alias


# --- default and chosen aliases --------------------------------------------------------------


def test_default_aliases_are_identifiers_unique_short_and_never_keywords() -> None:
    assert (
        identifier_from("江州市城乡居民社会保险参保人员信息（2024）")
        == "江州市城乡居民社会保险参保人员信息2024"
    )
    assert identifier_from("select") == "_select" and identifier_from("Order") == "_Order"
    assert (
        identifier_from("ds_sales") == "_ds_sales"
        and identifier_from("2024年销售") == "_2024年销售"
    )
    long = default_aliases({"ds_a": "长" * 60, "ds_b": "长" * 60, "ds_c": "长" * 60})
    assert list(long.values()) == ["ds_a", "ds_b", "ds_c"]
    names = list(long)
    assert all(len(a) <= MAX_LENGTH for a in names) and names[1].endswith("_2")
    assert names[2].endswith("_3") and len({a.lower() for a in names}) == 3
    assert default_aliases({"ds_a": "People", "ds_b": "people"}) == {
        "People": "ds_a",
        "people_2": "ds_b",  # unique without case, as DuckDB compares names
    }
    for alias in [*names, "_select", "_Order", "_ds_sales"]:
        assert alias_problems(alias) == []


@pytest.mark.parametrize(
    ("alias", "problem"),
    [
        ("select", "keyword"),
        ("FROM", "keyword"),
        ("group", "keyword"),
        ("ds_people", "ds_"),
        ("DS_people", "ds_"),
        ("2024年", "digit"),
        ("参保 人员", "letters, digits and underscores"),
        ('参保"人员', "letters, digits and underscores"),
        ("人" * (MAX_LENGTH + 1), "longer than"),
        ("", "empty"),
    ],
)
def test_a_chosen_alias_follows_the_same_rules(alias: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        choose_aliases({"ds_a": "参保人员"}, chosen={alias: "ds_a"})


def test_chosen_aliases_name_datasets_of_the_request_once_each() -> None:
    titles = {"ds_a": "参保人员", "ds_b": "参保人员"}
    assert choose_aliases(titles, chosen={"参保人员": "ds_b"}) == {
        "参保人员": "ds_b",
        "参保人员_2": "ds_a",  # the default steps aside for the choice
    }
    with pytest.raises(InvalidInput, match="does not ask for"):
        choose_aliases(titles, chosen={"其他": "ds_z"})
    with pytest.raises(InvalidInput, match="two table names"):
        choose_aliases(titles, chosen={"甲": "ds_a", "乙": "ds_a"})
    with pytest.raises(InvalidInput, match="given twice"):
        choose_aliases(titles, chosen={"甲": "ds_a", "甲 ": "ds_b"})


# --- on a real contract ----------------------------------------------------------------------


def test_the_demo_contract_is_queried_by_its_alias(demo: tuple[Context, str, str]) -> None:
    ctx, contract, residents = demo
    with ctx.db.transaction() as session:
        row = session.get(Contract, contract)
        assert row is not None and row.aliases == {"参保人员": residents}
        req = session.get(AccessRequest, row.request_id)
        assert req is not None and req.aliases == row.aliases  # copied when it was made
    coop = actor(ctx, "coop-manager")
    by_alias, by_id = (
        service.run_estimate(
            ctx,
            coop,
            contract_id=contract,
            query=f'SELECT 所属乡镇, COUNT(*) AS n, AVG("缴费档次(元)") AS a FROM {name} GROUP BY 所属乡镇',
            epsilon=0.3,
        )
        for name in ("参保人员", residents)
    )
    assert by_alias.forecast == by_id.forecast and by_alias.forecast.partitions == 10
    before = spent(ctx, contract)
    answer = service.run_query(
        ctx, coop, contract_id=contract, query="SELECT COUNT(*) AS n FROM 参保人员", epsilon=0.1
    )
    assert answer.rows and spent(ctx, contract)[0] == before[0] + 1


def test_a_query_by_alias_gives_the_same_answer_as_by_id(tmp_path: Path) -> None:
    """Engine level: the rewritten queries read the same rows and answer the same."""
    rows = 60
    pq.write_table(
        pa.table(
            {
                "town": [f"t{i % 3}" for i in range(rows)],
                "fee": list(range(rows)),
                "name": [f"n{i}" for i in range(rows)],
            }
        ),
        tmp_path / "p.parquet",
    )
    engine = DuckDBEngine(Settings(home=tmp_path))
    try:
        sources = {"__src_people": tmp_path / "p.parquet"}
        # ORDER BY is applied to what is released, not in the engine: its groups come in any
        # order (DuckDB's threads), so they are compared sorted
        answers = [
            sorted(engine.run(govern(sql).rewritten, sources).to_pylist(), key=str)
            for sql in (
                "SELECT town, COUNT(*) AS n, SUM(fee) AS s FROM 人员 GROUP BY town ORDER BY town",
                "SELECT town, COUNT(*) AS n, SUM(fee) AS s FROM ds_p GROUP BY town ORDER BY town",
            )
        ]
    finally:
        engine.close()
    assert answers[0] == answers[1] and len(answers[0]) == 3


def test_the_request_chooses_its_aliases_and_a_bad_one_writes_nothing(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    contract = approved(app_client, ctx, aliases={"居民": residents})
    assert contract["aliases"] == {"居民": residents}
    default = app_client.post(
        "/api/v1/requests", json=ask(ctx), headers=auth(ctx, "ai-analyst")
    ).json()
    assert default["aliases"] == {"江州市城乡居民社会保险参保人员信息": residents}

    def requests() -> int:
        with ctx.db.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(AccessRequest)) or 0)

    before = requests()
    for aliases, problem in (
        ({"select": residents}, "SQL 关键字"),
        ({"居民": "ds_nowhere"}, "并未申请该数据集"),
    ):
        refused = app_client.post(
            "/api/v1/requests",
            json=ask(ctx, aliases=aliases),
            headers={**auth(ctx, "ai-analyst"), "Accept-Language": "zh-CN"},
        )
        assert refused.status_code == 422 and problem in refused.text, refused.text
    assert requests() == before  # nothing written


def test_the_console_shows_and_takes_the_alias(app_client: TestClient, ctx: Context) -> None:
    with ctx.db.transaction() as session:
        contract = session.get(Contract, demo_contract_id(session))
        assert contract is not None
        contract_id, request_id = contract.id, contract.request_id
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "coop-manager")
    query = app_client.get(f"/query?contract={contract_id}").text
    assert "FROM 参保人员 GROUP BY" in query  # the first query uses the alias
    assert "参保人员</code>" in app_client.get(f"/contracts/{contract_id}").text
    assert "参保人员</code>" in app_client.get(f"/requests/{request_id}").text
    app_client.cookies.clear()
    login(app_client, "ai-analyst")
    wizard = app_client.get(f"/requests/new?dataset={residents}").text
    assert (
        "受控查询中的表名" in wizard
        and 'placeholder="江州市城乡居民社会保险参保人员信息"' in wizard
    )
    token = csrf(app_client, f"/requests/new?dataset={residents}")
    form = {
        "csrf_token": token,
        "dataset": residents,
        "purpose": "public_welfare",
        "fields": "所属乡镇",
        "operations": "aggregate",
        "days": "10",
        "justification": "按乡镇统计参保人数，用于公益测算。",
    }
    refused = app_client.post("/requests/new", data={**form, "alias": "ds_居民"})
    assert refused.status_code == 422 and "数据集编号专用的前缀" in refused.text
    assert 'value="ds_居民"' in refused.text  # the form keeps what was typed
    made = app_client.post("/requests/new", data={**form, "alias": "居民"}, follow_redirects=False)
    assert made.status_code == 303
    with ctx.db.transaction() as session:
        newest = session.scalar(select(AccessRequest).order_by(AccessRequest.created_at.desc()))
        assert newest is not None and newest.aliases == {"居民": residents}


# --- the request form's forecast ------------------------------------------------------------


def test_typical_accuracy_is_the_forecast_of_the_typical_query(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    fields = ["所属乡镇", "缴费档次(元)"]
    analyst = actor(ctx, "ai-analyst")
    with ctx.db.transaction() as session:
        found = service.typical_accuracy(
            session,
            analyst,
            settings=ctx.settings,
            dataset_id=residents,
            epsilon=0.5,
            fields=fields,
        )
        capped = service.typical_accuracy(
            session,
            analyst,
            settings=ctx.settings,
            dataset_id=residents,
            epsilon=50,
            fields=fields,
        )
        for bad in (float("nan"), float("inf"), -1.0, 0.0, 1e-9):
            with pytest.raises(InvalidInput):
                service.typical_accuracy(
                    session,
                    analyst,
                    settings=ctx.settings,
                    dataset_id=residents,
                    epsilon=bad,
                )
    assert (found.key, found.column, found.partitions, found.unit) == (
        "所属乡镇",
        "缴费档次(元)",
        10,
        "元/年",
    )
    assert capped.capped and capped.epsilon == 10 and capped.count_ci < found.count_ci
    # The same figures the query page forecasts for that query, spending that ε.
    estimate = service.run_estimate(
        ctx,
        actor(ctx, "coop-manager"),
        contract_id=contract,
        query='SELECT 所属乡镇, COUNT(*) AS n, AVG("缴费档次(元)") AS a FROM 参保人员 GROUP BY 所属乡镇',
        epsilon=0.5,
    )
    assert found.count_ci == pytest.approx(estimate.forecast.outputs["n"]["ci95"])
    assert found.avg_ci == pytest.approx(estimate.forecast.outputs["a"]["ci95"])
    assert found.at == estimate.forecast.outputs["a"]["at"]


def test_the_forecast_fragment_explains_and_never_fails(
    app_client: TestClient, ctx: Context
) -> None:
    residents = dataset_id(ctx, "参保人员")
    login(app_client, "ai-analyst")
    wizard = app_client.get(f"/requests/new?dataset={residents}").text
    assert 'hx-post="/requests/new/forecast"' in wizard and 'id="epsilon-help"' in wizard
    token = csrf(app_client, f"/requests/new?dataset={residents}")

    def forecast(epsilon: str) -> str:
        got = app_client.post(
            "/requests/new/forecast",
            data={
                "csrf_token": token,
                "dataset": residents,
                "epsilon": epsilon,
                "fields": "所属乡镇",
            },
            headers={"X-CSRF-Token": token},
        )
        assert got.status_code == 200, (epsilon, got.text)
        return got.text

    shown = forecast("0.5")
    assert "按所属乡镇分组计数" in shown and "±" in shown and "元/年" in shown
    assert "一次查询最多花费 ε = 10" in forecast("50")
    assert "不加噪声" in forecast("")
    for bad in ("abc", "-1", "nan", "inf", "0", "1e-9"):
        text = forecast(bad)
        assert 'role="alert"' in text and "Traceback" not in text, bad


def test_migration_0014_adds_the_aliases_and_backfills_the_defaults(ctx: Context) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from yaosu.kernel.db import alembic_config

    config = alembic_config(ctx.db.engine)
    command.downgrade(config, "0013")
    for table in ("contracts", "access_requests"):
        assert "aliases" not in {c["name"] for c in inspect(ctx.db.engine).get_columns(table)}
    command.upgrade(config, "head")
    ctx.db.dispose()
    residents = dataset_id(ctx, "参保人员")
    with ctx.db.transaction() as session:
        contracts = list(session.scalars(select(Contract)))
        requests = list(session.scalars(select(AccessRequest)))
    assert contracts and requests
    # rows made before the revision: each dataset named after its title
    theirs = [r for r in requests if residents in r.datasets]  # the demo's orders: farm sales
    assert theirs and all(
        r.aliases == {"江州市城乡居民社会保险参保人员信息": residents} for r in theirs
    )
    assert all(set(r.aliases.values()) == set(r.datasets) for r in requests)
    assert all(set(c.aliases.values()) == set(c.datasets) for c in contracts)
