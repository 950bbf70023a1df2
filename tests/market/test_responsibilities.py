"""Who answers for what for a data product (责任边界), on the demo world: the product's page
and API response name the holders of the data it is made from, its operator, the platform and
the buyer's duties; a transaction certificate signs the same statement, with the buyer named,
and still verifies offline; the public certificate page shows it as signed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.market.test_certificates import demo_certificate, downloaded, keys
from yaosu.context import Context
from yaosu.market import certificates
from yaosu.market.models import Product

MULTI = "乡村农资需求预测服务（多方数据）"  # the demo's product over four holders' data
HOLDERS = ["石桥镇人民政府", "河西乡人民政府", "龙泉镇人民政府", "青禾农民专业合作社"]
SELLER = "智谷人工智能科技有限公司"


def product_id(ctx: Context, title: str = MULTI) -> str:
    with ctx.db.transaction() as session:
        return str(session.scalars(select(Product.id).where(Product.title == title)).one())


def names(parts: list[dict[str, Any]], part: str) -> list[str | None]:
    return [p["org_name"] for p in parts if p["part"] == part]


def test_a_products_response_names_its_parts(app_client: TestClient, ctx: Context) -> None:
    got = app_client.get(f"/api/v1/market/products/{product_id(ctx)}").json()  # public
    parts = got["responsibilities"]
    assert [p["part"] for p in parts] == ["provider"] * 4 + ["seller", "operator", "consumer"]
    assert sorted(names(parts, "provider")) == sorted(HOLDERS)
    assert names(parts, "seller") == [SELLER]
    assert names(parts, "consumer") == [None]  # whoever buys it
    seller = next(p for p in parts if p["part"] == "seller")
    assert [d["rule"] for d in seller["duties"]] == ["data20_rights", "dsl_27"]
    assert all(p.get("algorithm") is None for p in parts)  # a product names no algorithm
    listed = app_client.get("/api/v1/market/products").json()
    assert {p["responsibilities"] for p in listed} == {None}  # a product's own response only


def test_the_product_page_shows_who_answers_for_what(app_client: TestClient, ctx: Context) -> None:
    page = app_client.get(f"/market/products/{product_id(ctx)}").text
    panel = page[page.index('id="responsibilities"') :]
    for words in ("数据提供方", "数据产品经营方", "平台运营方", "数据使用方", SELLER, *HOLDERS):
        assert words in panel
    assert "购买方（下单时确定）" in panel  # the buyer's duties, before anyone buys
    assert "“数据二十条”：数据产权制度（数据产品经营权）" in panel
    assert "《数据安全法》第三十三条" in panel


def test_a_transaction_certificate_signs_who_answers_for_what(
    app_client: TestClient, ctx: Context
) -> None:
    cert = demo_certificate(ctx)
    file = downloaded(app_client, ctx, cert.number)
    parts = file["document"]["responsibilities"]
    assert names(parts, "consumer") == [file["document"]["buyer"]["name"]]
    assert names(parts, "seller") == [file["document"]["seller"]["name"]]
    assert names(parts, "operator") == ["要素数据交易平台运营中心"]
    document, proven = certificates.check_file(file, **keys(ctx))
    assert document["responsibilities"] == parts and proven  # signed, and in the log
    page = app_client.get(f"/market/certificates/{cert.number}/{cert.check}").text
    assert 'role="status"' in page  # genuine
    panel = page[page.index('id="responsibilities"') :]
    assert file["document"]["buyer"]["name"] in panel and "数据使用方" in panel
