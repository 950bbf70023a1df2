"""Search finds Chinese without spaces and English words, ranks titles first, and counts facets."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth
from yaosu.catalog.search import query_terms, terms
from yaosu.context import Context


def titles(client: TestClient, q: str, **params: str) -> list[str]:
    r = client.get("/api/v1/datasets", params={"q": q, "limit": 50, **params})
    assert r.status_code == 200, r.text
    return [d["title"] for d in r.json()["items"]]


def test_terms() -> None:
    assert terms("2024年农产品 Sales") == [
        "2024",
        "年",
        "农",
        "产",
        "品",
        "年农",
        "农产",
        "产品",
        "sales",
    ]
    assert query_terms("农产品") == ["农产", "产品"]
    assert query_terms("农") == ["农"]
    assert query_terms("ＡＢＣ　农业") == ["abc", "农业"]  # full-width forms are normalised


@pytest.fixture
def catalog(app_client: TestClient, ctx: Context) -> TestClient:
    headers = auth(ctx, "bureau-admin")
    for title, description, keywords in [
        ("全市农业产值统计", "各区县农业总产值", ["农业"]),
        (
            "Agricultural Cooperatives Register",
            "Registered farmer cooperatives in Jiangzhou",
            ["agriculture"],
        ),
        ("公交线路日客流量", "公共交通刷卡数据汇总，可用于农产品物流规划", ["交通"]),
    ]:
        r = app_client.post(
            "/api/v1/datasets",
            json={
                "title": title,
                "description": description,
                "keywords": keywords,
                "theme": "测试",
                "openness": "open",
            },
            headers=headers,
        )
        assert r.status_code == 201
    return app_client


def test_chinese_substring_without_spaces(catalog: TestClient) -> None:
    found = titles(catalog, "农产品")
    assert found[0] == "2024年各乡镇农产品销售数据"  # title match ranks above a description match
    assert "公交线路日客流量" in found
    assert "全市农业产值统计" not in found  # 农业 and 产值 hold 农 and 产 but not 农产品's bigrams


def test_chinese_words_inside_longer_text(catalog: TestClient) -> None:
    assert titles(catalog, "乡镇") == ["2024年各乡镇农产品销售数据"]
    assert titles(catalog, "参保 信息") == ["江州市城乡居民社会保险参保人员信息"]
    assert titles(catalog, "社会保障") == ["江州市城乡居民社会保险参保人员信息"]  # by theme
    assert titles(catalog, "数据局")  # by publisher name


def test_english_words_and_prefixes(catalog: TestClient) -> None:
    assert titles(catalog, "cooperatives") == ["Agricultural Cooperatives Register"]
    assert titles(catalog, "COOPERATIVE") == ["Agricultural Cooperatives Register"]
    assert titles(catalog, "agri") == ["Agricultural Cooperatives Register"]
    assert titles(catalog, "farmer jiangzhou") == ["Agricultural Cooperatives Register"]
    assert titles(catalog, "xyzzy") == []
    assert titles(catalog, "%") == []  # LIKE wildcards are data, not patterns
    assert titles(catalog, "a_r") == []


def test_search_respects_visibility(catalog: TestClient, ctx: Context) -> None:
    assert titles(catalog, "用电量") == []
    assert (
        catalog.get(
            "/api/v1/datasets", params={"q": "用电量"}, headers=auth(ctx, "bureau-admin")
        ).json()["total"]
        == 1
    )


def test_facets_count_within_the_query(catalog: TestClient) -> None:
    body = catalog.get("/api/v1/datasets", params={"q": "农产品"}).json()
    openness = {f["value"]: f["count"] for f in body["facets"]["openness"]}
    assert openness == {"open": 2}
    labels = {f["label"] for f in body["facets"]["openness"]}
    assert labels == {"无条件开放"}
    themes = {f["value"] for f in body["facets"]["theme"]}
    assert themes == {"农业农村", "测试"}
    narrowed = catalog.get("/api/v1/datasets", params={"q": "农产品", "theme": "测试"}).json()
    assert narrowed["total"] == 1
    # a facet keeps counting its other values while it is itself the filter
    assert {f["value"] for f in narrowed["facets"]["theme"]} == {"农业农村", "测试"}
    provider = narrowed["facets"]["provider"][0]
    assert provider["label"] == "江州市数据局"
