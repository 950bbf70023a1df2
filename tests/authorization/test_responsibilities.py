"""Who answers for what under a contract (责任边界), on the demo world: the contract's API
response and its page name each provider, the platform, the algorithm's provider with the
algorithm's name and filing number (a compute contract), and the data user, each with its
duties and the rule each cites; a governed-query contract has no algorithm provider."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import auth, demo_contract_id
from tests.console.test_pages import login
from yaosu.authorization.models import Contract
from yaosu.compute.models import Algorithm
from yaosu.context import Context

AI = "ai-analyst"  # the AI company: the compute contract's data user and the algorithm's provider


def compute_contract(ctx: Context) -> dict[str, Any]:
    """The demo's compute contract (石桥镇's records, naming the filed algorithm's number)."""
    with ctx.db.transaction() as session:
        contract = session.scalars(select(Contract).where(Contract.algorithm.is_not(None))).one()
        alg = session.scalars(
            select(Algorithm).where(Algorithm.filing_number == contract.algorithm)
        ).one()
        return {"id": contract.id, "alg": alg.id, "name": alg.name, "number": alg.filing_number}


def test_a_compute_contracts_response_names_each_party_and_the_algorithms_filing(
    app_client: TestClient, ctx: Context
) -> None:
    w = compute_contract(ctx)
    assert w["number"].startswith("网信算备") and w["number"].endswith("号")
    got = app_client.get(f"/api/v1/contracts/{w['id']}", headers=auth(ctx, AI)).json()
    parts = got["responsibilities"]
    assert [p["part"] for p in parts] == ["provider", "operator", "algorithm_provider", "consumer"]
    by = {p["part"]: p for p in parts}
    assert by["provider"]["org_name"] == "石桥镇人民政府"
    assert by["operator"]["org_name"] == "要素数据交易平台运营中心"
    assert by["algorithm_provider"]["org_name"] == by["consumer"]["org_name"]  # the AI company
    assert by["algorithm_provider"]["algorithm"] == {
        "id": w["alg"],
        "name": w["name"],
        "filing_number": w["number"],
    }
    rules = {p["part"]: [d["rule_text"]["zh"] for d in p["duties"]] for p in parts}
    assert "《数据安全法》第二十七条" in rules["provider"]
    assert "《数据安全法》第三十三条" in rules["operator"]
    assert "《互联网信息服务算法推荐管理规定》第七条" in rules["algorithm_provider"]
    assert "所签协议或许可的条款" in rules["consumer"]  # the use within the contract's terms
    for p in parts:
        assert p["part_text"]["zh"] and p["part_text"]["en"]
        assert all(d["text"]["zh"] != d["text"]["en"] for d in p["duties"])  # translated
    # the provider approves what runs on its data, under a compute contract only
    assert "provider.approval" in [d["duty"] for d in by["provider"]["duties"]]
    listed = app_client.get("/api/v1/contracts", headers=auth(ctx, AI)).json()["items"]
    assert {c["responsibilities"] for c in listed} == {None}  # a contract's own response only


def test_a_governed_query_contract_has_no_algorithm_provider(
    app_client: TestClient, ctx: Context
) -> None:
    with ctx.db.transaction() as session:
        contract_id = demo_contract_id(session)
    got = app_client.get(
        f"/api/v1/contracts/{contract_id}", headers=auth(ctx, "coop-manager")
    ).json()
    parts = [p["part"] for p in got["responsibilities"]]
    assert parts == ["provider", "operator", "consumer"]
    duties = [d["duty"] for p in got["responsibilities"] for d in p["duties"]]
    assert "provider.approval" not in duties


def test_the_contract_page_shows_who_answers_for_what(app_client: TestClient, ctx: Context) -> None:
    w = compute_contract(ctx)
    login(app_client, AI)
    page = app_client.get(f"/contracts/{w['id']}").text
    panel = page[page.index('id="responsibilities"') :]
    for words in ("数据提供方", "平台运营方", "算法服务提供者", "数据使用方", "石桥镇人民政府"):
        assert words in panel
    assert f'<a href="/algorithms/{w["alg"]}">{w["name"]}</a>' in panel
    assert w["number"] in panel
    assert "《互联网信息服务算法推荐管理规定》第七条" in panel
    assert "落实算法安全主体责任" in panel
    english = app_client.get(f"/contracts/{w['id']}?lang=en").text
    assert "Data Security Law, Article 27" in english and "algorithm service provider" in english
