"""Private answers people can use: the data dictionary's public domains release every
declared group with noise and no threshold, the forecast states cost and accuracy before
anything is spent (and matches the answer), a query whose every group would be hidden is
refused unspent, and answers are kept as history and exported as shown."""

from __future__ import annotations

import csv
import io

import duckdb
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.access.conftest import spent as _spent
from tests.conftest import actor
from yaosu.access import accuracy, history, service
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import Contract
from yaosu.catalog import dictionary, versions
from yaosu.catalog.models import ColumnEntry
from yaosu.catalog.schemas import DictionaryIn
from yaosu.context import Context
from yaosu.demo.world import TOWNS
from yaosu.kernel.errors import InvalidInput, NotFound, QueryRefused, YaosuError

FEE = "缴费档次(元)"


def _write(ctx: Context, username: str, residents: str, columns: list[dict]) -> list:
    with ctx.db.transaction() as session:
        return dictionary.write(
            session,
            actor(ctx, username),
            store=ctx.store,
            dataset_id=residents,
            data=DictionaryIn.model_validate({"columns": columns}),
        )


def _audits(ctx: Context, action: str) -> int:
    with ctx.db.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
            )
            or 0
        )


def test_every_declared_group_is_released_even_one_no_row_has(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    # The demo declares the county's ten towns; one more town (in the list, in no row) and
    # one town left out of the list.
    declared = [*TOWNS[1:], "新设镇"]
    _write(ctx, "bureau-admin", residents, [{"column": "所属乡镇", "domain": declared}])
    result = service.run_query(
        ctx,
        actor(ctx, "coop-manager"),
        contract_id=contract,
        query=f"SELECT 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 所属乡镇",
        epsilon=0.1,
    )
    assert [r[0] for r in result.rows] == declared  # the declared order, all of them
    assert TOWNS[0] not in {r[0] for r in result.rows}  # not declared: never released
    assert result.threshold is None and result.delta == 0.0 and result.partitions == 10
    assert all(n >= 0 for _, n in result.rows)
    assert [c[1] for c in result.cells] == pytest.approx([result.accuracy["n"]["ci95"]] * 10)


def test_two_declared_keys_release_their_cross_product_and_undeclared_keys_keep_the_threshold(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    both = service.run_query(
        ctx,
        coop,
        contract_id=contract,
        query=f"SELECT 参保类型, 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 1, 2",
        epsilon=0.3,
    )
    assert len(both.rows) == 2 * len(TOWNS) and both.threshold is None
    # The fee has bounds but no list of values: its groups exist only past a noisy threshold.
    fee = service.run_query(
        ctx,
        coop,
        contract_id=contract,
        query=f'SELECT "{FEE}", COUNT(*) AS n FROM {residents} GROUP BY "{FEE}"',
        epsilon=0.3,
    )
    assert fee.threshold is not None and fee.delta > 0 and fee.partitions is None


def test_a_public_domain_on_a_personal_column_is_refused_and_never_used(
    demo: tuple[Context, str, str],
) -> None:
    ctx, _, residents = demo
    before = _audits(ctx, "dataset.dictionary")
    with pytest.raises(InvalidInput) as refused:
        _write(ctx, "bureau-admin", residents, [{"column": "姓名", "domain": ["王伟"]}])
    assert "姓名" in refused.value.message("en") and "personal" in refused.value.message("en")
    assert _audits(ctx, "dataset.dictionary") == before  # refused: nothing written
    # A domain stored on a column the screen calls personal (as if declared before the screen
    # changed) is ignored at query time: the check is made against the version queried.
    with ctx.db.transaction() as session:
        version = versions.get_version(
            session, actor(ctx, "bureau-admin"), dataset_id=residents, number=None
        )
        columns = [c["name"] for c in version.columns]
        found = dictionary.public_domains(
            session, dataset_id=residents, version=version.number, columns=columns
        )
        assert "所属乡镇" in found
        stored = session.get(ColumnEntry, (residents, "身份证号"))
        assert stored is not None
        stored.domain = ["x"]
    with ctx.db.transaction() as session:
        again = dictionary.public_domains(
            session, dataset_id=residents, version=version.number, columns=columns
        )
    assert "身份证号" not in again and "所属乡镇" in again


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"column": FEE, "domain": ["200", "三百"]}, "三百"),
        ({"column": "所属乡镇", "lower": 1, "upper": 2}, "numeric"),
        ({"column": FEE, "lower": 5, "upper": 1}, "lower below the upper"),
        ({"column": "没有这列", "description": "x"}, "没有这列"),
    ],
)
def test_bad_dictionary_entries_are_refused_with_the_reason_and_write_nothing(
    demo: tuple[Context, str, str], entry: dict, words: str
) -> None:
    ctx, _, residents = demo
    with pytest.raises(InvalidInput) as refused:
        # the first entry is valid: a refused entry refuses the whole change
        _write(ctx, "bureau-admin", residents, [{"column": "备注", "description": "改"}, entry])
    assert words in refused.value.message("en")
    with ctx.db.transaction() as session:
        notes = {
            e.column: e
            for e in dictionary.entries(session, actor(ctx, "coop-manager"), dataset_id=residents)
        }
    assert notes["备注"].description != "改"


def test_the_consumer_reads_the_dictionary_but_cannot_write_it(
    demo: tuple[Context, str, str],
) -> None:
    ctx, _, residents = demo
    with ctx.db.transaction() as session:
        read = dictionary.entries(session, actor(ctx, "coop-manager"), dataset_id=residents)
    by_name = {e.column: e for e in read}
    assert by_name["所属乡镇"].domain == TOWNS and by_name[FEE].unit == "元/年"
    assert by_name["所属乡镇"].may_be_public and not by_name["姓名"].may_be_public
    with pytest.raises(YaosuError) as refused:
        _write(ctx, "coop-manager", residents, [{"column": "备注", "description": "x"}])
    assert refused.value.status in (403, 404)


def test_a_domain_from_the_data_takes_every_value_of_the_latest_version(
    demo: tuple[Context, str, str],
) -> None:
    ctx, _, residents = demo
    written = _write(ctx, "bureau-admin", residents, [{"column": FEE, "domain_from_data": True}])
    fee = next(e for e in written if e.column == FEE)
    assert fee.domain == [200, 300, 500, 800, 1000, 2000]  # typed as the column is
    with ctx.db.transaction() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "dataset.dictionary")
            .order_by(AuditEntry.leaf_index.desc())
        ).first()
    assert entry is not None and entry.detail["public_domains"] == {FEE: 6}


def test_the_forecast_states_the_accuracy_the_answer_then_has(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    sql = f'SELECT 所属乡镇, COUNT(*) AS n, AVG("{FEE}") AS fee FROM {residents} GROUP BY 1'
    before = _spent(ctx, contract)
    found = service.run_estimate(ctx, coop, contract_id=contract, query=sql, epsilon=0.4)
    assert _spent(ctx, contract) == before  # a forecast spends nothing
    f = found.forecast
    assert f.partitions == len(TOWNS) and f.threshold is None and f.rows == 2000
    assert found.units == {"fee": "元/年"}
    answer = service.run_query(ctx, coop, contract_id=contract, query=sql, epsilon=0.4)
    assert answer.accuracy["n"]["ci95"] == pytest.approx(f.outputs["n"]["ci95"], rel=1e-5)
    # An average's forecast is for a group of typical size, as far from the middle as it can
    # be; every released average states its own ±, clamped to the bounds (200 to 2000).
    assert f.outputs["fee"]["at"] == 200
    assert all(0 < c[2] <= 1800 for c in answer.cells)
    assert all(200 <= r[2] <= 2000 for r in answer.rows)


def test_averages_are_centred_so_that_they_land_near_the_truth(
    demo: tuple[Context, str, str],
) -> None:
    """At a large ε the noise is small: released averages fall within their stated ± of the
    exact ones (almost always; the test allows many misses, a wrong formula misses all)."""
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    with ctx.db.transaction() as session:
        session.get(Contract, contract).epsilon_budget = 1000.0
    sql = f'SELECT 参保类型, 所属乡镇, AVG("{FEE}") AS fee FROM {residents} GROUP BY 1, 2'
    answer = service.run_query(ctx, coop, contract_id=contract, query=sql, epsilon=10)
    with ctx.db.transaction() as session:
        version = versions.get_version(session, coop, dataset_id=residents, number=None)
        path = ctx.store.path(version.sha256)
    exact = {
        (k1, k2): v
        for k1, k2, v in duckdb.sql(
            f"SELECT 参保类型, 所属乡镇, AVG(\"{FEE}\") FROM read_parquet('{path}') GROUP BY 1, 2"
        ).fetchall()
    }
    within = sum(
        abs(r[2] - exact[(r[0], r[1])]) <= c[2]
        for r, c in zip(answer.rows, answer.cells, strict=True)
    )
    assert len(answer.rows) == 20 and within >= 12


def test_the_smallest_epsilon_meets_the_accuracy_asked_and_a_smaller_one_does_not(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    sql = f"SELECT 所属乡镇, COUNT(*) AS n FROM {residents} GROUP BY 1"
    found = service.run_estimate(
        ctx, coop, contract_id=contract, query=sql, epsilon=0.1, target=10.0
    )
    eps = found.suggested_epsilon
    assert eps is not None and found.target_column == "n"
    at = service.run_estimate(ctx, coop, contract_id=contract, query=sql, epsilon=eps)
    below = service.run_estimate(ctx, coop, contract_id=contract, query=sql, epsilon=eps * 0.98)
    assert at.forecast.outputs["n"]["ci95"] <= 10.0 < below.forecast.outputs["n"]["ci95"]
    none = service.run_estimate(
        ctx, coop, contract_id=contract, query=sql, epsilon=0.1, target=0.001
    )
    assert none.suggested_epsilon is None


def test_a_query_whose_every_group_would_be_hidden_is_refused_unspent_and_says_why(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    before, refusals = _spent(ctx, contract), _audits(ctx, "query.run")
    sql = f'SELECT "{FEE}", COUNT(*) AS n FROM {residents} GROUP BY 1'
    with pytest.raises(QueryRefused) as refused:
        service.run_query(ctx, coop, contract_id=contract, query=sql, epsilon=0.001)
    text = refused.value.message("en")
    assert "every group would be hidden" in text and "2000 rows" in text and "ε ≥" in text
    assert "every group would be hidden" not in refused.value.message("zh-CN")
    assert _spent(ctx, contract) == before
    assert _audits(ctx, "query.run") == refusals + 1  # the refusal, once


def test_more_declared_groups_than_one_answer_holds_are_refused_before_the_debit(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    many = [f"镇{i}" for i in range(1000)]
    _write(ctx, "bureau-admin", residents, [{"column": "所属乡镇", "domain": many}])
    with ctx.db.transaction() as session:
        stored = session.get(ColumnEntry, (residents, FEE))
        assert stored is not None
        stored.domain = list(range(11))
    before = _spent(ctx, contract)
    with pytest.raises(QueryRefused) as refused:
        service.run_query(
            ctx,
            actor(ctx, "coop-manager"),
            contract_id=contract,
            query=f'SELECT 所属乡镇, "{FEE}", COUNT(*) FROM {residents} GROUP BY 1, 2',
            epsilon=0.1,
        )
    assert "11000" in refused.value.message("en")
    assert _spent(ctx, contract) == before


def test_answers_are_kept_as_history_and_exported_as_shown(
    demo: tuple[Context, str, str],
) -> None:
    ctx, contract, residents = demo
    coop = actor(ctx, "coop-manager")
    answer = service.run_query(
        ctx,
        coop,
        contract_id=contract,
        query=f'SELECT 所属乡镇 AS "=cmd()", COUNT(*) AS n FROM {residents} GROUP BY 1',
        epsilon=0.1,
    )
    with ctx.db.transaction() as session:
        runs = history.list_runs(session, coop, contract_id=contract)
        assert runs[0].id == answer.run_id and runs[0].rows == answer.rows
        made = history.export(session, coop, run_id=str(answer.run_id), fmt="csv")
        book = history.export(session, coop, run_id=str(answer.run_id), fmt="xlsx")
    assert made.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    assert table[0] == ["'=cmd()", "n", "n ±95%"]  # formula-safe, each noisy column's ±
    assert [r[0] for r in table[1:]] == [r[0] for r in answer.rows]
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet.cell(1, 1).value == "'=cmd()" and sheet.cell(2, 2).value == answer.rows[0][1]
    assert _audits(ctx, "query.export") == 2
    with ctx.db.transaction() as session, pytest.raises(NotFound):
        history.list_runs(session, actor(ctx, "ai-analyst"), contract_id=contract)
    with ctx.db.transaction() as session, pytest.raises(NotFound):
        history.get_run(session, actor(ctx, "ai-analyst"), run_id=str(answer.run_id))


def test_a_noisy_value_is_flagged_when_its_spread_covers_it() -> None:
    assert accuracy.is_noise("count", 5, 30.0, None) and not accuracy.is_noise(
        "count", 500, 30.0, None
    )
    assert accuracy.is_noise("avg", 900, 950.0, (200, 2000))
    assert not accuracy.is_noise("avg", 900, 100.0, (200, 2000))
