"""The privacy unit is declared by the provider, not guessed (issue 11, section 4).

A table of sales with customers' names and mobiles but no ID column has each person on many
rows. Before the fix it was treated as one row per person, so its DP answers bounded rows,
not people, and spent far more than the ε they reported. Now it is refused under DP until
the provider declares a unit; then each person counts once."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.authorization.test_requests import approved
from tests.conftest import actor, auth
from yaosu.access import service
from yaosu.audit.models import AuditEntry
from yaosu.authorization.models import Contract
from yaosu.catalog import service as catalog
from yaosu.catalog import versions
from yaosu.catalog.schemas import DatasetCreate
from yaosu.context import Context
from yaosu.demo.world import mobile, person_name
from yaosu.kernel.errors import QueryRefused
from yaosu.privacy import service as privacy
from yaosu.privacy import unit

PEOPLE, VISITS = 40, 6  # 240 rows, 40 people


def _sales(ctx: Context, folder: Path) -> str:
    rng = random.Random(5)
    path = folder / "sales.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["顾客姓名", "手机号", "门店", "金额"])
        for _ in range(PEOPLE):
            name, phone = person_name(rng), mobile(rng)
            for _ in range(VISITS):
                w.writerow([name, phone, rng.choice(["东门店", "西门店"]), rng.randrange(10, 500)])
    admin = actor(ctx, "bureau-admin")
    with ctx.db.transaction() as session:
        ds = catalog.create_dataset(
            session,
            admin,
            data=DatasetCreate(title="门店销售流水", theme="商贸", openness="conditional"),
        )
        ds_id = ds.id
    versions.run_ingest(ctx, admin, dataset_id=ds_id, source=path, filename="sales.csv")
    analyst, reviewer = actor(ctx, "bureau-analyst"), actor(ctx, "bureau-reviewer")
    with ctx.db.transaction() as session:
        screen = privacy.screen_version(
            session, analyst, store=ctx.store, settings=ctx.settings, dataset_id=ds_id
        )
        assert screen.personal  # names and mobiles
        privacy.review(session, reviewer, screen_id=screen.id, note="已复核")
    return ds_id


@pytest.fixture
def sales(
    ctx: Context, app_client: TestClient, tmp_path: Path
) -> Iterator[tuple[Context, TestClient, str, str]]:
    ds = _sales(ctx, tmp_path)
    contract = approved(app_client, ctx, datasets={ds: ["门店", "金额"]}, epsilon=10.0, max_uses=20)
    yield ctx, app_client, ds, contract["id"]
    service.close_engines(ctx)


def _count(ctx: Context, contract: str, ds: str) -> int:
    result = service.run_query(
        ctx,
        actor(ctx, "ai-analyst"),
        contract_id=contract,
        query=f"SELECT COUNT(*) AS n FROM {ds}",
        epsilon=2.0,
    )
    return int(result.rows[0][0])


def _spent(ctx: Context, contract: str) -> tuple[int, float]:
    with ctx.db.transaction() as session:
        row = session.get(Contract, contract)
        assert row is not None
        return row.uses, row.epsilon_spent


def test_personal_data_without_a_declared_unit_is_not_answered_under_dp(
    sales: tuple[Context, TestClient, str, str],
) -> None:
    ctx, client, ds, contract = sales
    before = _spent(ctx, contract)
    with pytest.raises(QueryRefused) as refused:  # before the fix: answered, bounded by row
        _count(ctx, contract, ds)
    assert "privacy unit" in refused.value.message("en")
    assert "隐私单位" in refused.value.message("zh-CN")
    assert _spent(ctx, contract) == before  # refused before the debit
    answer = client.post(
        "/api/v1/queries",
        json={"contract_id": contract, "sql": f"SELECT COUNT(*) AS n FROM {ds}", "epsilon": 1},
        headers=auth(ctx, "ai-analyst"),
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "QUERY_REFUSED"
    assert "隐私单位" in answer.json()["error"]["message"]


def test_the_screen_proposes_a_unit_and_the_declared_one_bounds_each_person(
    sales: tuple[Context, TestClient, str, str],
) -> None:
    ctx, client, ds, contract = sales
    path = f"/api/v1/datasets/{ds}/privacy-unit"
    shown = client.get(path, headers=auth(ctx, "bureau-reviewer")).json()
    assert shown["declared"] is False and shown["personal"] is True
    assert shown["proposal"]["columns"] == ["手机号"]  # a mobile names one person
    # only the provider's reviewer or admin declares, and a column must exist
    for who in ("bureau-analyst", "ai-analyst"):
        denied = client.put(path, json={"columns": ["手机号"]}, headers=auth(ctx, who))
        assert denied.status_code in (403, 404)
    wrong = client.put(path, json={"columns": ["身份证号"]}, headers=auth(ctx, "bureau-reviewer"))
    assert wrong.status_code == 422
    both = client.put(
        path,
        json={"columns": ["手机号"], "each_row_is_a_person": True},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert both.status_code == 422
    done = client.put(
        path,
        json={"columns": shown["proposal"]["columns"], "note": "手机号对应一位顾客"},
        headers=auth(ctx, "bureau-reviewer"),
    )
    assert done.status_code == 200, done.text
    assert done.json()["columns"] == ["手机号"] and done.json()["declared_by"]
    with ctx.db.transaction() as session:
        logged = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "privacy.unit.declare", AuditEntry.object_id == ds
            )
        ).all()
    assert len(logged) == 1 and logged[0].detail["columns"] == ["手机号"]
    # one row per person: about 40, not 240 (one measure at ε = 2: noise of scale 0.5)
    assert abs(_count(ctx, contract, ds) - PEOPLE) < 25
    # a combination of columns works the same
    client.put(path, json={"columns": ["顾客姓名", "手机号"]}, headers=auth(ctx, "bureau-reviewer"))
    assert abs(_count(ctx, contract, ds) - PEOPLE) < 25
    # "each row is a distinct person" is the provider's word, and then rows are people
    client.put(path, json={"each_row_is_a_person": True}, headers=auth(ctx, "bureau-reviewer"))
    assert abs(_count(ctx, contract, ds) - PEOPLE * VISITS) < 25


def test_the_proposal_follows_the_strongest_identifier() -> None:
    def finding(*pairs: tuple[str, str]) -> dict[str, object]:
        return {"columns": [{"column": c, "entities": [{"entity": e}]} for c, e in pairs]}

    assert unit.propose(finding(("卡号", "CN_BANK_CARD"), ("电话", "CN_MOBILE"))).columns == [
        "卡号"
    ]  # type: ignore[union-attr]
    assert unit.propose(finding(("电话", "CN_MOBILE"), ("证件", "CN_RESIDENT_ID"))).columns == [
        "证件"
    ]  # type: ignore[union-attr]
    assert unit.propose(finding(("护照", "CN_PASSPORT"))).columns == ["护照"]  # type: ignore[union-attr]
    assert unit.propose(finding(("姓名", "CN_PERSON_NAME"), ("生日", "DATE_OF_BIRTH"))).columns == [  # type: ignore[union-attr]
        "姓名",
        "生日",
    ]
    assert unit.propose(finding(("乡镇", "CN_ADDRESS"))) is None


def test_the_demo_declares_its_personal_datasets(ctx: Context) -> None:
    from tests.conftest import dataset_id

    with ctx.db.transaction() as session:
        declared = unit.declared(session, dataset_id=dataset_id(ctx, "参保人员"))
        assert declared is not None and declared.columns == ["身份证号"]


def test_the_console_form_declares_a_unit(
    sales: tuple[Context, TestClient, str, str],
) -> None:
    from tests.console.test_pages import csrf, login

    ctx, client, ds, contract = sales
    path = f"/datasets/{ds}/privacy-unit"
    login(client, "bureau-reviewer")
    page = client.get(path)
    assert page.status_code == 200 and "隐私单位" in page.text and "尚未声明" in page.text
    token = csrf(client, path)
    refused = client.post(
        path, data={"csrf_token": token, "kind": "columns", "note": ""}, follow_redirects=True
    )
    assert "请指定代表一个人的字段" in refused.text  # nothing chosen: said, not a 500
    done = client.post(
        path,
        data={"csrf_token": token, "kind": "columns", "columns": ["手机号"], "note": "顾客"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    with ctx.db.transaction() as session:
        declared = unit.declared(session, dataset_id=ds)
        assert declared is not None and declared.columns == ["手机号"]
    assert abs(_count(ctx, contract, ds) - PEOPLE) < 25


def test_the_cli_shows_and_declares_a_unit(
    sales: tuple[Context, TestClient, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from yaosu.cli import app
    from yaosu.privacy import unit_cli

    ctx, _, ds, _ = sales
    monkeypatch.setattr(unit_cli, "open_context", lambda: ctx)
    runner = CliRunner()
    shown = runner.invoke(app, ["privacy-unit", "--dataset", ds], env={"YAOSU_LANG": "en"})
    assert shown.exit_code == 0, shown.output
    assert "not declared" in shown.output and "手机号" in shown.output
    done = runner.invoke(app, ["privacy-unit", "-d", ds, "-c", "顾客姓名", "-c", "手机号"])
    assert done.exit_code == 0, done.output
    assert "顾客姓名 + 手机号" in done.output
    with ctx.db.transaction() as session:
        declared = unit.declared(session, dataset_id=ds)
        assert declared is not None and declared.columns == ["顾客姓名", "手机号"]
